/* spw-conform — the program: one table of commands. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "spwire/spwire.h"

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
} commands[] = {
    {"run", cf_cmd_run},
    {"fuzz", cf_cmd_fuzz},
    {"diff", cf_cmd_diff},
    {"replay", cf_cmd_replay},
};

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--version") == 0) {
        printf("spw-conform %s\n", SPWIRE_VERSION_STRING);
        return 0;
    }
    for (size_t k = 0; argc > 1 && k < sizeof commands / sizeof commands[0]; k++)
        if (strcmp(argv[1], commands[k].name) == 0)
            return commands[k].run(argc - 2, argv + 2);
    /* no command word: run (the gate's common case) */
    return cf_cmd_run(argc - 1, argv + 1);
}
