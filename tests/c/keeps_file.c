// An init that opens a preopened file and keeps the FILE* for later calls (unless CLOSE is
// set): the handle lives in the host's WASI table, so a snapshot cannot carry it.
#include <stdio.h>
#include <stdlib.h>

static FILE *kept;
static int first_byte = -2;

__attribute__((export_name("wizer-initialize"))) void init(void) {
    kept = fopen("/data/config.txt", "r");
    if (kept && getenv("CLOSE")) {
        first_byte = fgetc(kept);
        fclose(kept);
        kept = NULL;
    }
}

__attribute__((export_name("first"))) int first(void) {
    return kept ? fgetc(kept) : first_byte;
}
