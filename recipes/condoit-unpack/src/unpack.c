/* condoit-unpack: write a condoit installer's payload into an install prefix.
 *
 * The installer's shell header cannot rely on tar, python or xz on the target machine, so
 * this program (built by the stack for the target, linked only against libc and liblzma,
 * shipped uncompressed in front of the payload) does the part a POSIX shell cannot:
 *
 *   condoit-unpack PLACEHOLDER PREFIX < payload.xz
 *
 * The payload is one xz stream of records, each a header line then SIZE bytes of data:
 *
 *   KIND MODE SIZE REPL PATH\n
 *
 * KIND is d (directory), f (file), l (symlink: the data is its target) or e (the end);
 * MODE is octal; REPL is '-' (copy), 't' (text: every PLACEHOLDER becomes PREFIX, the file
 * may grow) or 'b' (binary: each NUL-terminated string holding PLACEHOLDER gets PREFIX and
 * is padded with NULs to its old length, as conda replaces prefixes in binaries); PATH is
 * relative to PREFIX. A text file whose first line becomes a shebang longer than the kernel
 * reads (127 bytes) is rewritten: a python script gets `#!/bin/sh` and a line that sh runs
 * as `exec "PREFIX/bin/python..." "$0" "$@"` and python reads as a string (the interpreter
 * stays the prefix's own), anything else `#!/usr/bin/env NAME ARGS`, as conda does.
 *
 * Existing files are replaced (unlinked first: a running program or a symlink is never
 * written through). Any error stops the program with a message and exit status 1.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <lzma.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#define VERSION "1.0.0"
#define CHUNK (1 << 16)
#define MAX_LINE 8192
#define SHEBANG_MAX 127

static const char *placeholder, *prefix;
static size_t ph_len, prefix_len;

static void die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("condoit-unpack: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

/* -- the decompressed stream ------------------------------------------------------------ */

static lzma_stream xz = LZMA_STREAM_INIT;
static uint8_t in_buf[CHUNK], out_buf[CHUNK];
static size_t out_pos, out_end;
static int stream_done;

/* Decompress up to cap bytes into dest; 0 only once the stream has ended. */
static size_t pull(uint8_t *dest, size_t cap) {
    size_t got = 0;
    while (got == 0 && !stream_done) {
        if (xz.avail_in == 0) {
            ssize_t n = read(0, in_buf, sizeof in_buf);
            if (n < 0)
                die("reading the payload: %s", strerror(errno));
            xz.next_in = in_buf;
            xz.avail_in = (size_t)n;
        }
        xz.next_out = dest;
        xz.avail_out = cap;
        lzma_ret ret = lzma_code(&xz, xz.avail_in == 0 ? LZMA_FINISH : LZMA_RUN);
        got = cap - xz.avail_out;
        if (ret == LZMA_STREAM_END)
            stream_done = 1;
        else if (ret != LZMA_OK)
            die("the payload is damaged or truncated (xz error %d)", (int)ret);
    }
    return got;
}

static void refill(void) {
    out_pos = 0;
    out_end = pull(out_buf, sizeof out_buf);
    if (out_end == 0)
        die("the payload ends too early (truncated installer?)");
}

static void read_exact(void *dest, size_t n) {
    uint8_t *d = dest;
    while (n > 0) {
        if (out_pos == out_end)
            refill();
        size_t take = out_end - out_pos < n ? out_end - out_pos : n;
        memcpy(d, out_buf + out_pos, take);
        out_pos += take;
        d += take;
        n -= take;
    }
}

static void read_line(char *line) {
    for (size_t i = 0; i < MAX_LINE; i++) {
        read_exact(line + i, 1);
        if (line[i] == '\n') {
            line[i] = '\0';
            return;
        }
    }
    die("a record header is longer than %d bytes (damaged payload?)", MAX_LINE);
}

/* -- prefix replacement ----------------------------------------------------------------- */

static size_t count_placeholders(const uint8_t *data, size_t size) {
    size_t n = 0;
    const uint8_t *p = data, *end = data + size;
    while ((p = memmem(p, (size_t)(end - p), placeholder, ph_len)) != NULL) {
        n++;
        p += ph_len;
    }
    return n;
}

/* Every PLACEHOLDER in data[0:size] becomes PREFIX; the result is written to out (which has
 * room) and its length returned. */
static size_t replace_all(const uint8_t *data, size_t size, uint8_t *out) {
    const uint8_t *p = data, *end = data + size, *hit;
    uint8_t *o = out;
    while ((hit = memmem(p, (size_t)(end - p), placeholder, ph_len)) != NULL) {
        memcpy(o, p, (size_t)(hit - p));
        o += hit - p;
        memcpy(o, prefix, prefix_len);
        o += prefix_len;
        p = hit + ph_len;
    }
    memcpy(o, p, (size_t)(end - p));
    return (size_t)(o - out) + (size_t)(end - p);
}

static uint8_t *replace_text(uint8_t *data, size_t *size) {
    size_t n = count_placeholders(data, *size);
    if (n == 0)
        return data;
    size_t grown = *size + n * prefix_len;      /* PREFIX is never longer than PLACEHOLDER */
    uint8_t *out = malloc(grown + 1);
    if (!out)
        die("out of memory");
    *size = replace_all(data, *size, out);
    free(data);
    return out;
}

/* In place: each C string holding the placeholder keeps its length (NUL padding). */
static void replace_binary(uint8_t *data, size_t size, const char *path) {
    uint8_t *p = data, *end = data + size, *hit;
    while ((hit = memmem(p, (size_t)(end - p), placeholder, ph_len)) != NULL) {
        uint8_t *stop = memchr(hit, '\0', (size_t)(end - hit));
        if (!stop)
            stop = end;
        size_t old = (size_t)(stop - hit);
        uint8_t *tmp = malloc(old + 1);
        if (!tmp)
            die("out of memory");
        size_t now = replace_all(hit, old, tmp);
        if (now > old)
            die("%s: the prefix does not fit in a binary string", path);
        memcpy(hit, tmp, now);
        memset(hit + now, 0, old - now);
        free(tmp);
        p = stop;
    }
}

/* A shebang longer than the kernel reads: `#!/usr/bin/env NAME ARGS` (conda's rule). */
static uint8_t *fix_shebang(uint8_t *data, size_t *size) {
    if (*size < 2 || data[0] != '#' || data[1] != '!')
        return data;
    uint8_t *nl = memchr(data, '\n', *size);
    size_t line = nl ? (size_t)(nl - data) : *size;
    if (line <= SHEBANG_MAX)
        return data;
    char *first = strndup((const char *)data + 2, line - 2);
    if (!first)
        die("out of memory");
    char *interp = first + strspn(first, " \t");
    char *args = interp + strcspn(interp, " \t");
    char *name = memrchr(interp, '/', (size_t)(args - interp));
    name = name ? name + 1 : interp;
    char head[MAX_LINE];
    int n;
    if (strncmp(name, "python", 6) == 0)    /* sh runs the interpreter by its full path */
        n = snprintf(head, sizeof head, "#!/bin/sh\n'''exec' \"%.*s\"%s \"$0\" \"$@\"\n' '''",
                     (int)(args - interp), interp, args);
    else
        n = snprintf(head, sizeof head, "#!/usr/bin/env %.*s%s", (int)(args - name), name, args);
    if (n < 0 || (size_t)n >= sizeof head)
        die("a shebang is too long to rewrite");
    uint8_t *out = malloc((size_t)n + *size - line + 1);
    if (!out)
        die("out of memory");
    memcpy(out, head, (size_t)n);
    memcpy(out + n, data + line, *size - line);
    *size = (size_t)n + *size - line;
    free(first);
    free(data);
    return out;
}

/* -- writing ---------------------------------------------------------------------------- */

static void check_path(const char *rel) {
    if (rel[0] == '\0' || rel[0] == '/')
        die("refusing the payload path '%s' (not relative)", rel);
    for (const char *p = rel; *p; ) {
        size_t len = strcspn(p, "/");
        if (len == 2 && p[0] == '.' && p[1] == '.')
            die("refusing the payload path '%s' (leaves the prefix)", rel);
        p += len;
        if (*p == '/')
            p++;
    }
}

static void make_dirs(char *path, int include_last) {
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST)
            die("cannot create %s: %s", path, strerror(errno));
        *p = '/';
    }
    if (include_last && mkdir(path, 0755) != 0 && errno != EEXIST)
        die("cannot create %s: %s", path, strerror(errno));
}

static void remove_old(const char *path) {
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode))
        die("%s is a directory, the payload has a file there", path);
    if (unlink(path) != 0)
        die("cannot replace %s: %s", path, strerror(errno));
}

static void write_file(const char *path, const uint8_t *data, size_t size, mode_t mode) {
    remove_old(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        die("cannot create %s: %s", path, strerror(errno));
    for (size_t done = 0; done < size; ) {
        ssize_t n = write(fd, data + done, size - done);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            die("writing %s: %s", path, strerror(errno));
        }
        done += (size_t)n;
    }
    if (fchmod(fd, mode) != 0 || close(fd) != 0)
        die("finishing %s: %s", path, strerror(errno));
}

int main(int argc, char **argv) {
    if (argc == 2 && strcmp(argv[1], "--version") == 0) {
        printf("condoit-unpack " VERSION " (liblzma %s)\n", lzma_version_string());
        return 0;
    }
    if (argc != 3) {
        fprintf(stderr, "usage: condoit-unpack PLACEHOLDER PREFIX < PAYLOAD\n");
        return 2;
    }
    placeholder = argv[1];
    prefix = argv[2];
    ph_len = strlen(placeholder);
    prefix_len = strlen(prefix);
    if (ph_len == 0 || prefix[0] != '/')
        die("the placeholder must not be empty and the prefix must be absolute");
    if (prefix_len > ph_len)
        die("the prefix %s is longer (%zu) than the placeholder (%zu)", prefix, prefix_len, ph_len);
    if (lzma_stream_decoder(&xz, UINT64_MAX, 0) != LZMA_OK)
        die("cannot start the xz decoder");

    char line[MAX_LINE], *path = malloc(prefix_len + MAX_LINE + 2);
    if (!path)
        die("out of memory");
    unsigned long files = 0;
    for (;;) {
        read_line(line);
        char kind, repl;
        unsigned int mode;
        unsigned long long size;
        int used = 0;
        if (sscanf(line, "%c %o %llu %c %n", &kind, &mode, &size, &repl, &used) != 4 || used == 0)
            die("a damaged record header: '%.60s'", line);
        if (kind == 'e')
            break;
        const char *rel = line + used;
        check_path(rel);
        snprintf(path, prefix_len + MAX_LINE + 2, "%s/%s", prefix, rel);
        if (kind == 'd') {
            make_dirs(path, 1);
            chmod(path, mode & 07777);
            continue;
        }
        make_dirs(path, 0);
        size_t n = (size_t)size;
        uint8_t *data = malloc(n + 1);
        if (!data)
            die("out of memory for %s (%zu bytes)", rel, n);
        read_exact(data, n);
        if (repl == 't') {
            data = replace_text(data, &n);
            data = fix_shebang(data, &n);
        } else if (repl == 'b') {
            replace_binary(data, n, rel);
        } else if (repl != '-') {
            die("%s: unknown replacement mode '%c'", rel, repl);
        }
        if (kind == 'f') {
            write_file(path, data, n, (mode_t)(mode & 07777));
        } else if (kind == 'l') {
            data[n] = '\0';
            remove_old(path);
            if (symlink((const char *)data, path) != 0)
                die("cannot link %s: %s", path, strerror(errno));
        } else {
            die("a record of unknown kind '%c'", kind);
        }
        free(data);
        files++;
    }
    /* nothing may follow the end record, and the stream must end there */
    uint8_t rest;
    if (out_pos != out_end || pull(&rest, 1) != 0)
        die("data after the payload's end record");
    fprintf(stderr, "condoit-unpack: %lu entries written into %s\n", files, prefix);
    return 0;
}
