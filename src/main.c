/*
 * kizuna: the program entry point. Dispatches `kizuna SUBCOMMAND ...` to the cmd_* files.
 * Exit statuses are each subcommand's own (documented in its usage); 2 is always "bad usage
 * or unreadable input", 64 an unknown subcommand.
 */
#include "cli.h"

#include <kizuna/core.h>
#include <stdio.h>
#include <string.h>

static void help_usage(void);
static int cmd_help(int argc, char **argv);

static const kz_command commands[] = {
    {"validate", "check STIX 2.1/2.0 objects, bundles and JSON lines against the spec",
     cmd_validate, cmd_validate_usage},
    {"pattern", "validate, inspect, print and match STIX patterns", cmd_pattern,
     cmd_pattern_usage},
    {"hub", "serve the TAXII 2.1 API (HTTPS) from a data directory", cmd_hub, cmd_hub_usage},
    {"admin", "manage a hub's organisations, accounts, tokens, collections and grants",
     cmd_admin, cmd_admin_usage},
    {"taxii", "TAXII 2.1 client: discover, list, get and post objects, drive an outbox",
     cmd_taxii, cmd_taxii_usage},
    {"gen", "generate indicator sets and telemetry with planted hits", cmd_gen, cmd_gen_usage},
    {"sensor", "match Zeek, Suricata EVE, pcap or a live interface against indicators",
     cmd_sensor, cmd_sensor_usage},
    {"engine", "compile STIX indicators and match observations against all of them", cmd_engine,
     cmd_engine_usage},
    {"help", "show the subcommands, or the usage of one", cmd_help, help_usage},
};
static const size_t ncommands = sizeof commands / sizeof commands[0];

static const kz_command *find(const char *name)
{
    for (size_t i = 0; i < ncommands; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

static void help_usage(void)
{
    printf("usage: kizuna <command> [options] [args]\n\n"
           "kizuna (絆): STIX 2.1 / TAXII 2.1 threat-intelligence hub, pattern engine and sensor.\n\n"
           "commands:\n");
    for (size_t i = 0; i < ncommands; i++)
        printf("  %-10s %s\n", commands[i].name, commands[i].summary);
    printf("\n'kizuna help <command>' or 'kizuna <command> --help' shows a command's usage.\n");
}

static int cmd_help(int argc, char **argv)
{
    if (argc > 1) {
        const kz_command *c = find(argv[1]);
        if (!c) {
            fprintf(stderr, "kizuna: unknown command '%s'\n", argv[1]);
            return 64;
        }
        c->usage();
        return 0;
    }
    help_usage();
    return 0;
}

int main(int argc, char **argv)
{
    if (kz_init() < 0) {
        fprintf(stderr, "kizuna: cannot initialise the crypto library\n");
        return 1;
    }
    if (argc < 2) {
        help_usage();
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
        return cmd_help(1, argv + 1);
    if (strcmp(argv[1], "--version") == 0) {
        printf("kizuna 0.1.0\n");
        return 0;
    }
    const kz_command *c = find(argv[1]);
    if (!c) {
        fprintf(stderr, "kizuna: unknown command '%s' (see 'kizuna help')\n", argv[1]);
        return 64;
    }
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            break;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            c->usage();
            return 0;
        }
    }
    return c->run(argc - 1, argv + 1);
}
