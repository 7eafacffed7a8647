/*
 * kizuna taxii client: the TAXII 2.1 client (libcurl) that sensors, federation and the
 * `kizuna taxii` command use. Three pieces:
 *
 *  - the client handle: discovery, API roots, collections, objects (paging through `next`),
 *    POST of envelopes with status polling, clear errors;
 *  - the pull cursor: the last X-TAXII-Date-Added-Last of a collection, kept on disk
 *    atomically, so that the next pull asks only for what was added since;
 *  - the outbox: a durable on-disk queue of STIX objects (sightings) waiting for a hub.
 *
 * Ownership: json_t values returned are new references (json_decref them); json_t values
 * passed in are borrowed. Strings passed in are copied when a handle keeps them.
 *
 * Thread-safety: a kz_taxii_client or kz_taxii_outbox is used by one thread at a time; use
 * one per thread. libcurl's global initialisation is not thread-safe: the first
 * kz_taxii_client_new of a process must happen before other threads use libcurl (or call
 * curl_global_init yourself at start-up).
 *
 * Errors: functions return 0 (or a non-NULL pointer) on success and -1 (NULL) on failure,
 * with the reason in a kz_taxii_error: the client's own (kz_taxii_client_error) or one passed
 * by the caller. The library never prints or exits.
 *
 * Safety: redirects are never followed, only http and https are spoken, TLS is at least
 * 1.2 and verified unless `insecure` is set, and credentials are sent only to the origin
 * (scheme, host, port) of the base URL: any other URL is refused before it is contacted.
 */
#ifndef KIZUNA_TAXII_CLIENT_H
#define KIZUNA_TAXII_CLIENT_H

#include <kizuna/json.h>

#ifndef KZ_TAXII_MEDIA_TYPE
#define KZ_TAXII_MEDIA_TYPE "application/taxii+json;version=2.1"
#endif
#define KZ_TAXII_USER_AGENT "kizuna/0.1"

/* ---- errors ----------------------------------------------------------------------------- */

typedef enum {
    KZ_TAXII_OK = 0,
    KZ_TAXII_E_USAGE,    /* bad argument or URL; URL outside the base origin */
    KZ_TAXII_E_NETWORK,  /* could not connect, timed out, connection broken */
    KZ_TAXII_E_TLS,      /* handshake or certificate verification failed */
    KZ_TAXII_E_HTTP,     /* the server answered with an error status (http_status) */
    KZ_TAXII_E_PROTOCOL, /* the answer is not TAXII 2.1 (media type, JSON, fields) */
    KZ_TAXII_E_CALLBACK, /* a callback asked to stop */
    KZ_TAXII_E_STATE,    /* a local file (cursor, outbox) could not be read or written */
    KZ_TAXII_E_NOMEM,
} kz_taxii_errkind;

typedef struct kz_taxii_error {
    kz_taxii_errkind kind;
    int http_status;    /* 0 when no HTTP answer was received */
    char title[256];    /* the TAXII error object's title, "" when none */
    char message[1024]; /* one sentence for a person: what was asked, what came back */
} kz_taxii_error;

/* Whether an error is worth retrying later (network, TLS handshake broken mid-way, 5xx, 429,
 * 408) rather than a refusal that needs a person (401, 403, 404, 4xx, protocol). */
bool kz_taxii_error_transient(const kz_taxii_error *e);

/* ---- the client ------------------------------------------------------------------------- */

typedef struct kz_taxii_client_opts {
    const char *user, *password; /* HTTP Basic; both or neither */
    const char *token;           /* `Authorization: Bearer TOKEN`; exclusive with user */
    const char *cacert;          /* PEM file of trusted CAs (the hub's self-signed cert) */
    bool insecure;               /* skip certificate verification (testing only) */
    long connect_timeout_ms;     /* 0: 10 s */
    long timeout_ms;             /* whole request, 0: 120 s */
    int retries;                 /* extra attempts for idempotent requests; <0: none, 0: 3 */
    long retry_base_ms;          /* first back-off delay, doubled each attempt; 0: 250 ms */
    size_t max_response;         /* largest body accepted; 0: 256 MiB */
    const char *user_agent;      /* NULL: KZ_TAXII_USER_AGENT */
} kz_taxii_client_opts;

typedef struct kz_taxii_client kz_taxii_client;

/* base_url: the server (`https://hub:8443/`) or its discovery URL; relative URLs given to
 * the other functions are resolved against it (a path starting with '/' against its
 * origin). Credentials inside the URL are refused: pass them in opts. opts may be NULL.
 * Returns NULL with err filled (err may be NULL). */
kz_taxii_client *kz_taxii_client_new(const char *base_url, const kz_taxii_client_opts *opts,
                                     kz_taxii_error *err);
void kz_taxii_client_free(kz_taxii_client *c);
/* The error of the last failed call on c (kind KZ_TAXII_OK after a success). */
const kz_taxii_error *kz_taxii_client_error(const kz_taxii_client *c);
/* How many HTTP requests c has sent (retries included), for tests and logs. */
size_t kz_taxii_client_requests(const kz_taxii_client *c);

/* GET a TAXII resource as JSON: discovery (url NULL or "" is the base URL itself, else e.g.
 * "/taxii2/"), an API root ("/api/"), its collections, one collection, a status. Each returns
 * a new reference or NULL. root is an absolute URL or a path; collection an id or alias. */
json_t *kz_taxii_discover(kz_taxii_client *c, const char *url);
json_t *kz_taxii_api_root(kz_taxii_client *c, const char *root);
json_t *kz_taxii_collections(kz_taxii_client *c, const char *root);
json_t *kz_taxii_collection(kz_taxii_client *c, const char *root, const char *collection);

/* ---- objects: GET with paging ----------------------------------------------------------- */

typedef struct kz_taxii_get_filter {
    const char *added_after; /* timestamp, or NULL */
    const char *match_type;  /* comma-separated lists, or NULL */
    const char *match_id;
    const char *match_version; /* "last" (server default), "first", "all", timestamps */
    const char *match_spec_version;
    size_t limit;     /* per page; 0: the server's default */
    const char *next; /* resume from a previous result's next, or NULL */
    size_t max_pages; /* 0: follow `next` until `more` is false */
} kz_taxii_get_filter;

/* Called once per object, in the server's order. obj is borrowed (valid during the call).
 * Return 0 to continue, non-zero to stop (the call then fails with KZ_TAXII_E_CALLBACK). */
typedef int (*kz_taxii_object_fn)(void *ctx, json_t *obj);

typedef struct kz_taxii_page_result {
    size_t objects, pages;
    bool more;                 /* the server has more after what was read */
    char next[512];            /* cursor to resume with when more is true, else "" */
    char date_added_first[40]; /* X-TAXII-Date-Added-First of the first page read */
    char date_added_last[40];  /* X-TAXII-Date-Added-Last of the last non-empty page (or the
                                  server's position when every page was empty); "" if none */
} kz_taxii_page_result;

/* Read a collection's objects page by page. Pages follow `next`; a server that says more
 * without giving next is followed by added_after = X-TAXII-Date-Added-Last. out is filled
 * even on failure with what was read so far (out may be NULL). */
int kz_taxii_get_objects(kz_taxii_client *c, const char *root, const char *collection,
                         const kz_taxii_get_filter *f, kz_taxii_object_fn fn, void *ctx,
                         kz_taxii_page_result *out);

/* ---- objects: POST ---------------------------------------------------------------------- */

typedef struct kz_taxii_status {
    char id[128];
    char status[16]; /* "complete" or "pending" (when wait_ms ran out) */
    size_t total, success, failure, pending;
    json_t *doc; /* the whole status resource (successes, failures with messages); owned */
} kz_taxii_status;

/* POST objects (a JSON array, borrowed) as one envelope, then poll the status resource until
 * it is complete or wait_ms has passed (0: 60 s). A POST is never retried by the client: a
 * caller that wants at-least-once delivery uses the outbox. st is zeroed first; free it with
 * kz_taxii_status_free, also after a failure. */
int kz_taxii_add_objects(kz_taxii_client *c, const char *root, const char *collection,
                         json_t *objects, long wait_ms, kz_taxii_status *st);
/* GET a status resource into st (replacing its content). */
int kz_taxii_get_status(kz_taxii_client *c, const char *root, const char *status_id,
                        kz_taxii_status *st);
void kz_taxii_status_free(kz_taxii_status *st);

/* ---- versions -------------------------------------------------------------------------- */

/* The version kizuna's hub gives STIX objects with neither `modified` nor `created` (SCOs):
 * TAXII 2.1 leaves it to the server ("a value consistent to the server"). */
#define KZ_TAXII_UNVERSIONED "1970-01-01T00:00:00.000Z"

/* The version a TAXII 2.1 server files obj under and names in its status resource: the
 * `modified` string, else `created`, else KZ_TAXII_UNVERSIONED. Borrowed from obj. */
const char *kz_taxii_object_version(const json_t *obj);
/* Whether obj has a version of its own (a string `modified` or `created`). For one that has
 * not, another server's status may name it under any consistent value, so the outbox matches
 * its verdicts by id alone. */
bool kz_taxii_object_versioned(const json_t *obj);

/* ---- the pull cursor -------------------------------------------------------------------- */

/* Load the cursor `name` ([A-Za-z0-9._-], 1..128 chars) from state_dir into out.
 * Returns 1 when found, 0 when there is none yet, -1 on error. */
int kz_taxii_cursor_load(const char *state_dir, const char *name, char *out, size_t outlen,
                         kz_taxii_error *err);
/* Replace the cursor atomically: write a temporary file, fsync it, rename it over the old
 * one, fsync the directory. A crash leaves either the old or the new value. */
int kz_taxii_cursor_save(const char *state_dir, const char *name, const char *value,
                         kz_taxii_error *err);

/* Called after a page's objects were all accepted, before the cursor moves past them (to
 * make what fn kept durable first). Return 0 to go on, non-zero to stop (the call then fails
 * with KZ_TAXII_E_CALLBACK and the cursor stays before the page). */
typedef int (*kz_taxii_page_fn)(void *ctx);

/* Incremental pull: added_after = the saved cursor (f->added_after when there is none yet,
 * f->next is ignored), then every page; after each page whose objects were all accepted by
 * fn (and by page_done, when given) the cursor is saved, so a pull that stops half-way
 * resumes after the last full page. Delivery to fn is at least once: after a crash the last
 * page may be delivered again. */
int kz_taxii_pull(kz_taxii_client *c, const char *root, const char *collection,
                  const kz_taxii_get_filter *f, const char *state_dir, const char *name,
                  kz_taxii_object_fn fn, kz_taxii_page_fn page_done, void *ctx,
                  kz_taxii_page_result *out);

/* ---- the outbox ------------------------------------------------------------------------- */

/*
 * A durable queue of STIX objects for one destination collection (one outbox file per
 * destination). SQLite in WAL mode with synchronous=FULL: when enqueue returns, the objects
 * survive kill -9 and power loss. flush posts them in envelopes and removes each only after
 * the status resource lists it among the successes; objects the server rejects (listed in
 * failures, or a 400/413/422 for that object alone) move to a dead-letter table with the
 * reason. Anything else (hub down, 5xx, 401/403/404, timeout, pending status) keeps them.
 * Status entries are matched to queued objects by id and version (kz_taxii_object_version,
 * compared as instants); an object without `modified` and `created` is matched by id alone,
 * since its version is the server's choice. An entry that names no object of the envelope,
 * and an object that a complete status does not mention (it stays queued), are counted and
 * passed to the flush's notify callback, never ignored.
 *
 * Delivery is at least once: if the process dies after the hub accepted an envelope but
 * before the outbox recorded it, the next flush posts the same objects again. A TAXII hub
 * treats an exact duplicate (same id, same modified, same content) as a success and stores
 * one version, so nothing is double-counted PROVIDED the producer gives each object a stable
 * id and modified: a sighting is created once with its id and modified and never rebuilt on
 * retry; an updated count is a new version (same id, later modified) that supersedes it.
 * Enqueuing an id+version already waiting replaces the waiting copy.
 */
typedef struct kz_taxii_outbox kz_taxii_outbox;

/* Open or create the outbox file (its directory must exist). Several processes may open
 * the same file (producers enqueue while a flusher delivers); each handle is used by one
 * thread at a time. Run one flusher per outbox: two would post the same objects twice
 * (harmless at the hub, but each would count them as delivered). */
kz_taxii_outbox *kz_taxii_outbox_open(const char *path, kz_taxii_error *err);
void kz_taxii_outbox_close(kz_taxii_outbox *ob);
/* Queue one STIX object or a JSON array of them (borrowed) in one transaction: all or none.
 * Each needs a string id and type. Returns 0 once durable, -1 with err. */
int kz_taxii_outbox_enqueue(kz_taxii_outbox *ob, json_t *objects, kz_taxii_error *err);
/* Objects waiting and objects dead-lettered. */
int kz_taxii_outbox_count(kz_taxii_outbox *ob, size_t *pending, size_t *dead, kz_taxii_error *err);

/* What a flush tells its notify callback about, one object or status entry at a time. */
typedef enum {
    KZ_TAXII_FLUSH_REFUSED,     /* the server refused the object: it is now a dead letter */
    KZ_TAXII_FLUSH_UNMATCHED,   /* a status entry names no waiting object of the envelope */
    KZ_TAXII_FLUSH_UNCONFIRMED, /* a complete status does not mention the object: it stays
                                   queued for the next flush */
} kz_taxii_flush_event;

/* id and version as the object was queued (REFUSED, UNCONFIRMED) or as the status entry gave
 * them (UNMATCHED; "" when absent); message: the server's reason, or what went wrong. All
 * borrowed for the call. REFUSED is called once the dead letter is durable. */
typedef void (*kz_taxii_flush_fn)(void *ctx, kz_taxii_flush_event ev, const char *id,
                                  const char *version, const char *message);

typedef struct kz_taxii_flush_opts {
    size_t batch;             /* objects per envelope; 0: 500 */
    long wait_ms;             /* status polling per envelope; 0: 60 s */
    kz_taxii_flush_fn notify; /* may be NULL */
    void *notify_ctx;
} kz_taxii_flush_opts;

typedef struct kz_taxii_flush_report {
    size_t delivered;   /* removed: the hub stored them (or already had them) */
    size_t rejected;    /* moved to the dead letters */
    size_t remaining;   /* still waiting after this flush */
    size_t envelopes;   /* POSTs sent */
    size_t unmatched;   /* status entries that named no waiting object of their envelope */
    size_t unconfirmed; /* objects a complete status did not mention (kept queued) */
} kz_taxii_flush_report;

/* Deliver what was waiting when the call started, oldest first (objects enqueued meanwhile
 * wait for the next flush). Returns 0 when every envelope got an answer (even
 * if some objects were rejected), -1 when delivery stopped (the client's error says why;
 * err gets a copy); objects not delivered stay queued in both cases. opts and rep may be
 * NULL. */
int kz_taxii_outbox_flush(kz_taxii_outbox *ob, kz_taxii_client *c, const char *root,
                          const char *collection, const kz_taxii_flush_opts *opts,
                          kz_taxii_flush_report *rep, kz_taxii_error *err);

/* One dead letter: the object's id and version, why the server refused it, its JSON. */
typedef int (*kz_taxii_dead_fn)(void *ctx, const char *id, const char *version, const char *reason,
                                const char *json);
/* Visit the dead letters, oldest first; a non-zero return from fn stops and is returned. */
int kz_taxii_outbox_dead_each(kz_taxii_outbox *ob, kz_taxii_dead_fn fn, void *ctx,
                              kz_taxii_error *err);

#endif
