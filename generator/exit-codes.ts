/** The CLI's exit codes, shared by the single-file commands (cli.ts) and the config commands (cli-config.ts). */
export const EXIT_OK = 0;
/** `--check` found an output stale or missing. */
export const EXIT_STALE = 1;
/** Bad input: a syntax error, an unreadable file, a bad flag or config. */
export const EXIT_BAD_INPUT = 2;
