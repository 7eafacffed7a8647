/* The kizuna program: one binary, git-style subcommands. Each cmd_*.c is a thin layer over
 * libkizuna that parses its arguments, prints and picks the exit status. */
#ifndef KZ_CLI_H
#define KZ_CLI_H

typedef struct kz_command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv); /* argv[0] is the subcommand name */
    void (*usage)(void);
} kz_command;

int cmd_validate(int argc, char **argv);
void cmd_validate_usage(void);
int cmd_hub(int argc, char **argv);
void cmd_hub_usage(void);
int cmd_admin(int argc, char **argv);
void cmd_admin_usage(void);

int cmd_pattern(int argc, char **argv);
void cmd_pattern_usage(void);
int cmd_pattern_match(int argc, char **argv);
int cmd_engine(int argc, char **argv);
void cmd_engine_usage(void);
int cmd_taxii(int argc, char **argv);
void cmd_taxii_usage(void);

int cmd_gen(int argc, char **argv);
void cmd_gen_usage(void);
int cmd_sensor(int argc, char **argv);
void cmd_sensor_usage(void);

#endif
