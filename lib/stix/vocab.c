/*
 * The SDO/SRO/meta vocabularies and enumerations of STIX 2.1 section 10 (Errata 01 values:
 * rust, legal, private-sector, the fixed infrastructure-type and report-type lists) and the
 * STIX 2.0 label vocabularies that 2.0 objects carry in "labels".
 * Invariant: every array is NULL-terminated and holds each value once, spelt as in the spec.
 * Not here: which property uses which vocabulary (the rule tables say that), SCO vocabularies.
 */
#include "vocab.h"

#include <stddef.h>

/* attack-motivation-ov */
const char *const kz_vocab_attack_motivation[] = {"accidental",
                                                  "coercion",
                                                  "dominance",
                                                  "ideology",
                                                  "notoriety",
                                                  "organizational-gain",
                                                  "personal-gain",
                                                  "personal-satisfaction",
                                                  "revenge",
                                                  "unpredictable",
                                                  NULL};

/* attack-resource-level-ov */
const char *const kz_vocab_attack_resource_level[] = {
    "individual", "club", "contest", "team", "organization", "government", NULL};

/* extension-type-enum */
const char *const kz_vocab_extension_type_enum[] = {
    "new-sdo", "new-sco", "new-sro", "property-extension", "toplevel-property-extension", NULL};

/* grouping-context-ov */
const char *const kz_vocab_grouping_context[] = {"suspicious-activity", "malware-analysis",
                                                 "unspecified", NULL};

/* identity-class-ov */
const char *const kz_vocab_identity_class[] = {"individual", "group",   "system", "organization",
                                               "class",      "unknown", NULL};

/* implementation-language-ov */
const char *const kz_vocab_implementation_language[] = {
    "applescript", "bash",         "c",      "c++",         "c#",    "go",
    "java",        "javascript",   "lua",    "objective-c", "perl",  "php",
    "powershell",  "python",       "ruby",   "rust",        "scala", "swift",
    "typescript",  "visual-basic", "x86-32", "x86-64",      NULL};

/* indicator-type-ov */
const char *const kz_vocab_indicator_type[] = {
    "anomalous-activity", "anonymization", "benign",  "compromised",
    "malicious-activity", "attribution",   "unknown", NULL};

/* industry-sector-ov */
const char *const kz_vocab_industry_sector[] = {"agriculture",
                                                "aerospace",
                                                "automotive",
                                                "chemical",
                                                "commercial",
                                                "communications",
                                                "construction",
                                                "defense",
                                                "education",
                                                "energy",
                                                "entertainment",
                                                "financial-services",
                                                "government",
                                                "emergency-services",
                                                "government-local",
                                                "government-national",
                                                "government-public-services",
                                                "government-regional",
                                                "healthcare",
                                                "hospitality-leisure",
                                                "infrastructure",
                                                "dams",
                                                "nuclear",
                                                "water",
                                                "insurance",
                                                "legal",
                                                "manufacturing",
                                                "mining",
                                                "non-profit",
                                                "pharmaceuticals",
                                                "retail",
                                                "technology",
                                                "telecommunications",
                                                "transportation",
                                                "utilities",
                                                NULL};

/* infrastructure-type-ov */
const char *const kz_vocab_infrastructure_type[] = {"amplification",
                                                    "anonymization",
                                                    "botnet",
                                                    "command-and-control",
                                                    "control-system",
                                                    "exfiltration",
                                                    "firewall",
                                                    "hosting-malware",
                                                    "hosting-target-lists",
                                                    "phishing",
                                                    "reconnaissance",
                                                    "routers-switches",
                                                    "staging",
                                                    "workstation",
                                                    "unknown",
                                                    NULL};

/* malware-capabilities-ov */
const char *const kz_vocab_malware_capabilities[] = {"accesses-remote-machines",
                                                     "anti-debugging",
                                                     "anti-disassembly",
                                                     "anti-emulation",
                                                     "anti-memory-forensics",
                                                     "anti-sandbox",
                                                     "anti-vm",
                                                     "captures-input-peripherals",
                                                     "captures-output-peripherals",
                                                     "captures-system-state-data",
                                                     "cleans-traces-of-infection",
                                                     "commits-fraud",
                                                     "communicates-with-c2",
                                                     "compromises-data-availability",
                                                     "compromises-data-integrity",
                                                     "compromises-system-availability",
                                                     "controls-local-machine",
                                                     "degrades-security-software",
                                                     "degrades-system-updates",
                                                     "determines-c2-server",
                                                     "emails-spam",
                                                     "escalates-privileges",
                                                     "evades-av",
                                                     "exfiltrates-data",
                                                     "fingerprints-host",
                                                     "hides-artifacts",
                                                     "hides-executing-code",
                                                     "infects-files",
                                                     "infects-remote-machines",
                                                     "installs-other-components",
                                                     "persists-after-system-reboot",
                                                     "prevents-artifact-access",
                                                     "prevents-artifact-deletion",
                                                     "probes-network-environment",
                                                     "self-modifies",
                                                     "steals-authentication-credentials",
                                                     "violates-system-operational-integrity",
                                                     NULL};

/* malware-result-ov */
const char *const kz_vocab_malware_result[] = {"malicious", "suspicious", "benign", "unknown",
                                               NULL};

/* malware-type-ov */
const char *const kz_vocab_malware_type[] = {"adware",
                                             "backdoor",
                                             "bot",
                                             "bootkit",
                                             "ddos",
                                             "downloader",
                                             "dropper",
                                             "exploit-kit",
                                             "keylogger",
                                             "ransomware",
                                             "remote-access-trojan",
                                             "resource-exploitation",
                                             "rogue-security-software",
                                             "rootkit",
                                             "screen-capture",
                                             "spyware",
                                             "trojan",
                                             "unknown",
                                             "virus",
                                             "webshell",
                                             "wiper",
                                             "worm",
                                             NULL};

/* opinion-enum */
const char *const kz_vocab_opinion_enum[] = {"strongly-disagree", "disagree", "neutral", "agree",
                                             "strongly-agree",    NULL};

/* pattern-type-ov */
const char *const kz_vocab_pattern_type[] = {"stix",     "pcre", "sigma", "snort",
                                             "suricata", "yara", NULL};

/* processor-architecture-ov */
const char *const kz_vocab_processor_architecture[] = {"alpha", "arm", "ia-64",  "mips", "powerpc",
                                                       "sparc", "x86", "x86-64", NULL};

/* region-ov */
const char *const kz_vocab_region[] = {"africa",
                                       "eastern-africa",
                                       "middle-africa",
                                       "northern-africa",
                                       "southern-africa",
                                       "western-africa",
                                       "americas",
                                       "caribbean",
                                       "central-america",
                                       "latin-america-caribbean",
                                       "northern-america",
                                       "south-america",
                                       "asia",
                                       "central-asia",
                                       "eastern-asia",
                                       "southern-asia",
                                       "south-eastern-asia",
                                       "western-asia",
                                       "europe",
                                       "eastern-europe",
                                       "northern-europe",
                                       "southern-europe",
                                       "western-europe",
                                       "oceania",
                                       "antarctica",
                                       "australia-new-zealand",
                                       "melanesia",
                                       "micronesia",
                                       "polynesia",
                                       NULL};

/* report-type-ov */
const char *const kz_vocab_report_type[] = {"attack-pattern",
                                            "campaign",
                                            "identity",
                                            "incident",
                                            "indicator",
                                            "intrusion-set",
                                            "malware",
                                            "observed-data",
                                            "threat-actor",
                                            "threat-report",
                                            "tool",
                                            "vulnerability",
                                            NULL};

/* threat-actor-type-ov */
const char *const kz_vocab_threat_actor_type[] = {"activist",
                                                  "competitor",
                                                  "crime-syndicate",
                                                  "criminal",
                                                  "hacker",
                                                  "insider-accidental",
                                                  "insider-disgruntled",
                                                  "nation-state",
                                                  "private-sector",
                                                  "sensationalist",
                                                  "spy",
                                                  "terrorist",
                                                  "unknown",
                                                  NULL};

/* threat-actor-role-ov */
const char *const kz_vocab_threat_actor_role[] = {"agent",
                                                  "director",
                                                  "independent",
                                                  "infrastructure-architect",
                                                  "infrastructure-operator",
                                                  "malware-author",
                                                  "sponsor",
                                                  NULL};

/* threat-actor-sophistication-ov */
const char *const kz_vocab_threat_actor_sophistication[] = {
    "none", "minimal", "intermediate", "advanced", "expert", "innovator", "strategic", NULL};

/* tool-type-ov */
const char *const kz_vocab_tool_type[] = {"denial-of-service",
                                          "exploitation",
                                          "information-gathering",
                                          "network-capture",
                                          "credential-exploitation",
                                          "remote-access",
                                          "vulnerability-scanning",
                                          "unknown",
                                          NULL};

/* indicator-label-ov (STIX 2.0) */
const char *const kz_vocab_indicator_label_20[] = {
    "anomalous-activity", "anonymization", "benign", "compromised",
    "malicious-activity", "attribution",   NULL};

/* malware-label-ov (STIX 2.0) */
const char *const kz_vocab_malware_label_20[] = {"adware",
                                                 "backdoor",
                                                 "bot",
                                                 "ddos",
                                                 "dropper",
                                                 "exploit-kit",
                                                 "keylogger",
                                                 "ransomware",
                                                 "remote-access-trojan",
                                                 "resource-exploitation",
                                                 "rogue-security-software",
                                                 "rootkit",
                                                 "screen-capture",
                                                 "spyware",
                                                 "trojan",
                                                 "virus",
                                                 "worm",
                                                 NULL};

/* report-label-ov (STIX 2.0) */
const char *const kz_vocab_report_label_20[] = {
    "threat-report", "attack-pattern", "campaign", "identity",      "indicator", "malware",
    "observed-data", "threat-actor",   "tool",     "vulnerability", NULL};

/* threat-actor-label-ov (STIX 2.0) */
const char *const kz_vocab_threat_actor_label_20[] = {"activist",
                                                      "competitor",
                                                      "crime-syndicate",
                                                      "criminal",
                                                      "hacker",
                                                      "insider-accidental",
                                                      "insider-disgruntled",
                                                      "nation-state",
                                                      "sensationalist",
                                                      "spy",
                                                      "terrorist",
                                                      NULL};

/* tool-label-ov (STIX 2.0) */
const char *const kz_vocab_tool_label_20[] = {
    "denial-of-service",       "exploitation",  "information-gathering",  "network-capture",
    "credential-exploitation", "remote-access", "vulnerability-scanning", NULL};

/* identity-class-ov (STIX 2.0: no "system") */
const char *const kz_vocab_identity_class_20[] = {"individual", "group",   "organization",
                                                  "class",      "unknown", NULL};

/* marking definition types defined by the specification (7.2.1) */
const char *const kz_vocab_marking_definition_type[] = {"statement", "tlp", NULL};

/* TLP 1.0 levels of the legacy "tlp" marking object (7.2.1.4) */
const char *const kz_vocab_tlp_level[] = {"white", "green", "amber", "red", NULL};
