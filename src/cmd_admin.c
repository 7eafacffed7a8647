/*
 * kizuna admin: manage a hub's data directory without touching the database — organisations,
 * accounts, API tokens, API roots, collections and grants. Scriptable: one action per run,
 * results on stdout (one record per line, tab-separated), errors on stderr.
 * Passwords are read from stdin (first line) so they never appear in argv or shell history;
 * a token is printed once and only its hash is kept.
 */
#include "cli.h"

#include <kizuna/policy.h>
#include <kizuna/store.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cmd_admin_usage(void)
{
    printf("usage: kizuna admin --data DIR ACTION ...\n\n"
           "  org add NAME [--identity identity--UUID]   add an organisation (a STIX identity)\n"
           "  org list\n"
           "  user add NAME --org ORG                    add an account; password on stdin\n"
           "  user list\n"
           "  user del NAME\n"
           "  token add USER LABEL                       print a new API token (shown once)\n"
           "  token revoke USER LABEL\n"
           "  root add NAME [--title T] [--description D]\n"
           "  collection add --title T [--description D] [--id UUID] [--alias A] [--root NAME]\n"
           "  collection list [--root NAME]\n"
           "  grant read|write|read,write COLLECTION (--user NAME | --org NAME)\n"
           "  revoke read|write|read,write COLLECTION (--user NAME | --org NAME)\n\n"
           "COLLECTION is an id or an alias. The default API root is 'api' (served at /api/).\n"
           "Exit status: 0 done, 1 refused or failed, 2 bad usage.\n");
}

typedef struct opts {
    const char *data, *org, *user, *title, *description, *id, *alias, *root, *identity;
    const char *pos[8];
    int npos;
} opts;

static int parse(int argc, char **argv, opts *o)
{
    memset(o, 0, sizeof *o);
    struct {
        const char *name;
        const char **dst;
    } named[] = {
        {"--data", &o->data},
        {"--org", &o->org},
        {"--user", &o->user},
        {"--title", &o->title},
        {"--description", &o->description},
        {"--id", &o->id},
        {"--alias", &o->alias},
        {"--root", &o->root},
        {"--identity", &o->identity},
    };
    for (int i = 1; i < argc; i++) {
        bool hit = false;
        for (size_t k = 0; k < sizeof named / sizeof named[0]; k++)
            if (strcmp(argv[i], named[k].name) == 0) {
                if (i + 1 >= argc) {
                    fprintf(stderr, "kizuna admin: %s needs a value\n", argv[i]);
                    return -1;
                }
                *named[k].dst = argv[++i];
                hit = true;
            }
        if (hit)
            continue;
        if (argv[i][0] == '-' && argv[i][1] == '-') {
            fprintf(stderr, "kizuna admin: unknown option '%s'\n", argv[i]);
            return -1;
        }
        if (o->npos == 8) {
            fprintf(stderr, "kizuna admin: too many arguments\n");
            return -1;
        }
        o->pos[o->npos++] = argv[i];
    }
    if (!o->data) {
        fprintf(stderr, "kizuna admin: --data DIR is required\n");
        return -1;
    }
    return 0;
}

static bool is(const opts *o, int i, const char *w)
{
    return o->npos > i && strcmp(o->pos[i], w) == 0;
}

static int print_org(void *ctx, const char *name, const char *identity)
{
    (void)ctx;
    printf("%s\t%s\n", name, identity);
    return 0;
}

static int print_account(void *ctx, const kz_store_account *a)
{
    (void)ctx;
    printf("%s\t%s\n", a->name, a->org);
    return 0;
}

static int print_collection(void *ctx, const kz_store_collection *c)
{
    (void)ctx;
    printf("%s\t%s\t%s\t%s\n", c->id, c->root, c->alias ? c->alias : "-", c->title);
    return 0;
}

static int read_password(char *buf, size_t len)
{
    if (!fgets(buf, (int)len, stdin))
        return -1;
    size_t n = strlen(buf);
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = 0;
    return n ? 0 : -1;
}

static int run(kz_store *s, const opts *o)
{
    char err[512];
    int rc = -2;
    if (is(o, 0, "org") && is(o, 1, "add") && o->npos == 3) {
        char ident[64];
        if (o->identity) {
            if (strncmp(o->identity, "identity--", 10) != 0) {
                fprintf(stderr, "kizuna admin: --identity must be an identity--UUID\n");
                return 2;
            }
            snprintf(ident, sizeof ident, "%s", o->identity);
        } else {
            kz_uuid u;
            char us[37];
            kz_uuid_v4(&u);
            kz_uuid_format(&u, us);
            snprintf(ident, sizeof ident, "identity--%s", us);
        }
        rc = kz_store_org_add(s, o->pos[2], ident, err, sizeof err);
        if (rc == 0)
            printf("%s\t%s\n", o->pos[2], ident);
    } else if (is(o, 0, "org") && is(o, 1, "list") && o->npos == 2) {
        rc = kz_store_org_each(s, print_org, NULL, err, sizeof err);
    } else if (is(o, 0, "user") && is(o, 1, "add") && o->npos == 3 && o->org) {
        char pw[1024], hash[KZ_POLICY_PWHASH_LEN];
        if (read_password(pw, sizeof pw) < 0) {
            fprintf(stderr, "kizuna admin: give the password on the first line of stdin\n");
            return 2;
        }
        if (kz_policy_hash_password(pw, strlen(pw), hash) < 0) {
            sodium_memzero(pw, sizeof pw);
            fprintf(stderr, "kizuna admin: cannot hash the password (out of memory)\n");
            return 1;
        }
        sodium_memzero(pw, sizeof pw);
        rc = kz_store_account_add(s, o->pos[2], o->org, hash, err, sizeof err);
    } else if (is(o, 0, "user") && is(o, 1, "list") && o->npos == 2) {
        rc = kz_store_account_each(s, print_account, NULL, err, sizeof err);
    } else if (is(o, 0, "user") && is(o, 1, "del") && o->npos == 3) {
        rc = kz_store_account_del(s, o->pos[2], err, sizeof err);
        if (rc == 1) {
            fprintf(stderr, "kizuna admin: no account named '%s'\n", o->pos[2]);
            return 1;
        }
    } else if (is(o, 0, "token") && is(o, 1, "add") && o->npos == 4) {
        char tok[KZ_POLICY_TOKEN_LEN];
        uint8_t h[32];
        kz_policy_token_new(tok);
        kz_policy_token_hash(tok, strlen(tok), h);
        rc = kz_store_token_add(s, o->pos[2], o->pos[3], h, err, sizeof err);
        if (rc == 0)
            printf("%s\n", tok);
        sodium_memzero(tok, sizeof tok);
    } else if (is(o, 0, "token") && is(o, 1, "revoke") && o->npos == 4) {
        rc = kz_store_token_revoke(s, o->pos[2], o->pos[3], err, sizeof err);
        if (rc == 1) {
            fprintf(stderr, "kizuna admin: no token '%s' for '%s'\n", o->pos[3], o->pos[2]);
            return 1;
        }
    } else if (is(o, 0, "root") && is(o, 1, "add") && o->npos == 3) {
        rc = kz_store_root_add(s, o->pos[2], o->title ? o->title : o->pos[2], o->description, err,
                               sizeof err);
    } else if (is(o, 0, "collection") && is(o, 1, "add") && o->npos == 2 && o->title) {
        char id[37];
        rc = kz_store_collection_add(s, o->root ? o->root : "api", o->id, o->alias, o->title,
                                     o->description, id, err, sizeof err);
        if (rc == 0)
            printf("%s\n", id);
    } else if (is(o, 0, "collection") && is(o, 1, "list") && o->npos == 2) {
        rc = kz_store_collection_each(s, o->root, print_collection, NULL, err, sizeof err);
    } else if ((is(o, 0, "grant") || is(o, 0, "revoke")) && o->npos == 3 && (!o->user != !o->org)) {
        const char *what = o->pos[1];
        bool r = strstr(what, "read") != NULL, w = strstr(what, "write") != NULL;
        if (!r && !w) {
            fprintf(stderr, "kizuna admin: say read, write or read,write\n");
            return 2;
        }
        rc = kz_store_grant(s, o->pos[2], o->org != NULL, o->org ? o->org : o->user, r, w,
                            is(o, 0, "revoke"), err, sizeof err);
    }
    if (rc == -2) {
        fprintf(stderr, "kizuna admin: bad usage (see kizuna admin --help)\n");
        return 2;
    }
    if (rc < 0) {
        fprintf(stderr, "kizuna admin: %s\n", err);
        return 1;
    }
    return 0;
}

int cmd_admin(int argc, char **argv)
{
    opts o;
    if (parse(argc, argv, &o) < 0)
        return 2;
    if (o.npos == 0) {
        cmd_admin_usage();
        return 2;
    }
    kz_store *s = NULL;
    char err[512];
    if (kz_store_open(o.data, &s, err, sizeof err) < 0) {
        fprintf(stderr, "kizuna admin: %s\n", err);
        return 1;
    }
    int rc = run(s, &o);
    kz_store_close(s);
    return rc;
}
