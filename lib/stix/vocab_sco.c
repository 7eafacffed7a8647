/*
 * The vocabularies and enumerations of STIX Cyber-observable Objects (STIX 2.1 section 10),
 * the STIX 2.0 spellings where they differ, and the hex-digest lengths of the hash algorithms.
 * Invariant: every array is NULL-terminated and spelt as in the specification's value tables.
 * Hash values are checked by values.c; the lists here are the algorithm names.
 * Where the 2.1 text contradicts itself (network-socket-type-enum's summary lists the typo
 * "AF_ISOCK_DGRAMNET", its value table says SOCK_DGRAM) the value table wins.
 * Not here: which property uses which list (sco.c says that).
 */
#include "vocab_sco.h"

#include <stddef.h>

const char *const kz_vocab_account_type[] = {
    "facebook", "ldap", "nis", "openid", "radius", "skype", "tacacs", "twitter", "unix",
    "windows-local", "windows-domain", NULL};

const char *const kz_vocab_encryption_algorithm_enum[] = {"AES-256-GCM", "ChaCha20-Poly1305",
                                                          "mime-type-indicated", NULL};

const char *const kz_vocab_encryption_algorithm_20[] = {
    "AES128-ECB", "AES128-CBC", "AES128-CFB", "AES128-COFB", "AES128-CTR", "AES128-XTS",
    "AES128-GCM", "Salsa20", "Salsa8", "ChaCha20-Poly1305", "ChaCha20", "DES-CBC", "3DES-CBC",
    "DES-ECB", "3DES-ECB", "CAST128-CBC", "CAST256-CBC", "RSA", "DSA", NULL};

const char *const kz_vocab_hash_algorithm[] = {"MD5",      "SHA-1",    "SHA-256", "SHA-512",
                                               "SHA3-256", "SHA3-512", "SSDEEP",  "TLSH",
                                               NULL};

const char *const kz_vocab_hash_algorithm_20[] = {
    "MD5",      "MD6",      "RIPEMD-160", "SHA-1",    "SHA-224", "SHA-256",   "SHA-384",
    "SHA-512",  "SHA3-224", "SHA3-256",   "SHA3-384", "SHA3-512", "ssdeep", "WHIRLPOOL",
    NULL};

const char *const kz_vocab_socket_address_family_enum[] = {
    "AF_UNSPEC", "AF_INET", "AF_IPX", "AF_APPLETALK", "AF_NETBIOS", "AF_INET6", "AF_IRDA",
    "AF_BTH", NULL};

const char *const kz_vocab_socket_type_enum[] = {"SOCK_STREAM", "SOCK_DGRAM", "SOCK_RAW",
                                                 "SOCK_RDM", "SOCK_SEQPACKET", NULL};

const char *const kz_vocab_windows_integrity_level_enum[] = {"low", "medium", "high", "system",
                                                             NULL};

const char *const kz_vocab_windows_pebinary_type[] = {"dll", "exe", "sys", NULL};

const char *const kz_vocab_windows_registry_datatype_enum[] = {
    "REG_NONE",
    "REG_SZ",
    "REG_EXPAND_SZ",
    "REG_BINARY",
    "REG_DWORD",
    "REG_DWORD_BIG_ENDIAN",
    "REG_DWORD_LITTLE_ENDIAN",
    "REG_LINK",
    "REG_MULTI_SZ",
    "REG_RESOURCE_LIST",
    "REG_FULL_RESOURCE_DESCRIPTION",
    "REG_RESOURCE_REQUIREMENTS_LIST",
    "REG_QWORD",
    "REG_INVALID_TYPE",
    NULL};

const char *const kz_vocab_windows_service_start_type_enum[] = {
    "SERVICE_AUTO_START", "SERVICE_BOOT_START", "SERVICE_DEMAND_START", "SERVICE_DISABLED",
    "SERVICE_SYSTEM_ALERT", NULL};

const char *const kz_vocab_windows_service_type_enum[] = {
    "SERVICE_KERNEL_DRIVER", "SERVICE_FILE_SYSTEM_DRIVER", "SERVICE_WIN32_OWN_PROCESS",
    "SERVICE_WIN32_SHARE_PROCESS", NULL};

const char *const kz_vocab_windows_service_status_enum[] = {
    "SERVICE_CONTINUE_PENDING", "SERVICE_PAUSE_PENDING", "SERVICE_PAUSED",
    "SERVICE_RUNNING",          "SERVICE_START_PENDING", "SERVICE_STOP_PENDING",
    "SERVICE_STOPPED",          NULL};

const char *const kz_vocab_sco_types[] = {
    "artifact", "autonomous-system", "directory", "domain-name", "email-addr", "email-message",
    "file", "ipv4-addr", "ipv6-addr", "mac-addr", "mutex", "network-traffic", "process",
    "software", "url", "user-account", "windows-registry-key", "x509-certificate", NULL};
