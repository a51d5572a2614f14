// An init that tries to write a file into a preopened directory and remembers whether it
// could: compsnap's default world keeps the host's files as they are.
#include <stdio.h>

static int wrote = -2;

__attribute__((export_name("wizer.initialize"))) void init(void) {
    FILE *f = fopen("/data/out.txt", "w");
    if (!f) {
        wrote = -1;
        return;
    }
    wrote = fputs("written by the init", f) >= 0;
    fclose(f);
}

__attribute__((export_name("wrote"))) int get_wrote(void) { return wrote; }
