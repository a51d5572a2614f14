// An init (WASI, reactor) that lists a preopened directory and stats every entry, keeping
// the names in listing order and the metadata for later calls: what CPython's import
// caches do with a tree of modules.
#include <dirent.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

static char names[256];
static int64_t first_mtime = -1;
static int64_t first_atime = -1;
static uint64_t inos;

#ifndef INIT_EXPORT
#define INIT_EXPORT "wizer.initialize"
#endif

__attribute__((export_name(INIT_EXPORT))) void init(void) {
    DIR *d = opendir("/data");
    if (!d) return;
    size_t at = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        size_t n = strlen(e->d_name);
        if (at + n + 1 >= sizeof names) break;
        memcpy(names + at, e->d_name, n);
        names[at + n] = '/';
        at += n + 1;
        char path[300] = "/data/";
        strncat(path, e->d_name, sizeof path - 8);
        struct stat st;
        if (stat(path, &st) == 0) {
            if (first_mtime < 0) {
                first_mtime = st.st_mtim.tv_sec;
                first_atime = st.st_atim.tv_sec;
            }
            inos = inos * 31 + st.st_ino;
        }
    }
    closedir(d);
}

// The byte at `i` of the listing ("name/name/…").
__attribute__((export_name("name-byte"))) int name_byte(int i) {
    return (unsigned char)names[i & 255];
}
__attribute__((export_name("mtime"))) int64_t mtime(void) { return first_mtime; }
__attribute__((export_name("atime"))) int64_t atime(void) { return first_atime; }
__attribute__((export_name("inos"))) int64_t inode_mix(void) { return (int64_t)inos; }
