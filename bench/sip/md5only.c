/*
 * LD_PRELOAD shim for SIPp 3.6.1 (benchmark use only).
 *
 * hotline's 401 carries two WWW-Authenticate challenges, SHA-256 first and MD5 second
 * (RFC 8760). SIPp 3.6.1 answers the first challenge it finds and only knows MD5, so it
 * gives up ("authentication must use MD5 or AKAv1-MD5"). This shim wraps recvfrom() (UDP)
 * in the SIPp process and deletes, from each received datagram, every
 * "WWW-Authenticate:" / "Proxy-Authenticate:" header line whose algorithm is not MD5, so
 * SIPp sees (and answers) the MD5 challenge the server offered as well. Nothing is changed
 * on the server side; header removal does not affect Content-Length.
 *
 * Build: cc -O2 -shared -fPIC -o md5only.so md5only.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/types.h>

typedef ssize_t (*recvfrom_fn)(int, void *, size_t, int, struct sockaddr *, socklen_t *);

/* Whether the header line [p, end) is a challenge with a non-MD5 algorithm. */
static int unwanted(const char *p, const char *end)
{
    static const char *names[] = {"WWW-Authenticate:", "Proxy-Authenticate:"};
    size_t i, n, len = (size_t)(end - p);
    int challenge = 0;
    for (i = 0; i < 2; i++) {
        n = strlen(names[i]);
        if (len >= n && strncasecmp(p, names[i], n) == 0)
            challenge = 1;
    }
    if (!challenge)
        return 0;
    /* find "algorithm=" in the line */
    for (const char *q = p; q + 10 <= end; q++) {
        if (strncasecmp(q, "algorithm=", 10) == 0) {
            const char *v = q + 10;
            if (v < end && *v == '"')
                v++;
            /* keep exactly MD5 (not MD5-sess) */
            if (end - v >= 3 && strncasecmp(v, "MD5", 3) == 0 &&
                (v + 3 == end || strchr(" ,\"\r\n", v[3]) != NULL))
                return 0;
            return 1;
        }
    }
    return 0; /* no algorithm parameter means MD5 */
}

/* Removes unwanted challenge lines from buf[0..len) (only in the header part); new length. */
static ssize_t filter(char *buf, ssize_t len)
{
    if (len <= 0)
        return len;
    char *p = buf, *end = buf + len;
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *line_end = nl ? nl + 1 : end;
        if (line_end - p <= 2 && (*p == '\r' || *p == '\n'))
            break; /* blank line: end of headers */
        if (unwanted(p, nl ? nl : end)) {
            memmove(p, line_end, (size_t)(end - line_end));
            end -= line_end - p;
            continue;
        }
        p = line_end;
    }
    return end - buf;
}

ssize_t recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *addr,
                 socklen_t *alen)
{
    static recvfrom_fn real;
    if (!real)
        real = (recvfrom_fn)dlsym(RTLD_NEXT, "recvfrom");
    ssize_t r = real(fd, buf, n, flags, addr, alen);
    if (r > 0 && !(flags & MSG_PEEK))
        r = filter(buf, r);
    return r;
}
