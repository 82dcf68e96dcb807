/* Manual pages as plain text, in C: gzip via zlib, then a small roff-to-text
 * pass (what `man` would render, without the layout). Requests are dropped
 * except the man(7) macros that carry text (.B .I .SM .SB and the alternating
 * .BR .IR .RB .BI .IB .RI, headings .SH .SS, the tag of .IP); paragraph
 * macros become blank lines; lines of a paragraph are joined (fill mode)
 * except between .nf and .fi; macro definitions (.de ... ..) are skipped;
 * inline escapes are resolved (\- -> '-', \(em -> '-', \e -> '\', fonts,
 * sizes, strings and motions dropped). Only printable ASCII and '\n' are
 * kept, so the text fits the character vocabulary of the language model. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "reweight/reweight.h"

char *rw_read_gz(const char *path, size_t *len, char *err, size_t errlen) {
    gzFile f = gzopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "data.man: cannot read '%s': %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 15, n = 0;
    char *b = malloc(cap);
    if (!b) abort();
    for (;;) {
        if (n == cap) {
            char *nb = realloc(b, cap *= 2);
            if (!nb) abort();
            b = nb;
        }
        int k = gzread(f, b + n, (unsigned)(cap - n));
        if (k < 0) {
            int code;
            snprintf(err, errlen, "data.man: '%s' is not valid gzip data: %s", path, gzerror(f, &code));
            gzclose(f);
            free(b);
            return NULL;
        }
        if (k == 0) break;
        n += (size_t)k;
    }
    int code = Z_OK;
    const char *msg = gzerror(f, &code);
    if (code != Z_OK && code != Z_STREAM_END) { /* a truncated stream ends without an error from gzread */
        snprintf(err, errlen, "data.man: '%s' is truncated or corrupt gzip data: %s", path, msg);
        gzclose(f);
        free(b);
        return NULL;
    }
    gzclose(f);
    *len = n;
    return b;
}

typedef struct { char *b; size_t n, cap; } sbuf;

static void put(sbuf *s, char c) {
    if (s->n + 2 > s->cap) {
        s->cap = s->cap ? 2 * s->cap : 4096;
        char *nb = realloc(s->b, s->cap);
        if (!nb) abort();
        s->b = nb;
    }
    s->b[s->n++] = c;
}

static void puts_(sbuf *s, const char *t) {
    while (*t) put(s, *t++);
}

/* Fill mode: source lines of one paragraph are joined by one space. */
static void soft(sbuf *s) {
    while (s->n && s->b[s->n - 1] == ' ') s->n--;
    if (s->n && s->b[s->n - 1] != '\n') put(s, ' ');
}

/* A hard line break (no blank line). */
static void hard(sbuf *s) {
    while (s->n && s->b[s->n - 1] == ' ') s->n--;
    if (s->n && s->b[s->n - 1] != '\n') put(s, '\n');
}

/* A paragraph break: at most one blank line, none at the start. */
static void para(sbuf *s) {
    while (s->n && s->b[s->n - 1] == ' ') s->n--;
    if (s->n == 0) return;
    if (s->b[s->n - 1] != '\n') put(s, '\n');
    if (s->n >= 2 && s->b[s->n - 2] == '\n') return;
    put(s, '\n');
}

static const struct { const char *name, *text; } special[] = {
    {"em", "-"}, {"en", "-"}, {"hy", "-"}, {"mi", "-"}, {"bu", "*"}, {"co", "(c)"}, {"rg", "(R)"},
    {"lq", "\""}, {"rq", "\""}, {"dq", "\""}, {"aq", "'"}, {"oq", "'"}, {"cq", "'"}, {"ga", "`"},
    {"aa", "'"}, {"ti", "~"}, {"ha", "^"}, {"rs", "\\"}, {"sl", "/"}, {"mu", "x"}, {"<=", "<="},
    {">=", ">="}, {"->", "->"}, {"<-", "<-"}, {"pl", "+"}, {"eq", "="}, {"lh", "<="}, {"rh", "=>"},
    {"ba", "|"}, {"br", "|"}, {"ul", "_"}, {"at", "@"}, {"sh", "#"}, {"Do", "$"}, {"tm", "(TM)"},
};

static void put_special(sbuf *s, const char *name, size_t n) {
    for (size_t i = 0; i < sizeof special / sizeof special[0]; i++)
        if (strlen(special[i].name) == n && !memcmp(special[i].name, name, n)) {
            puts_(s, special[i].text);
            return;
        }
}

/* Skip an escape argument: (xx, [name], or one character. */
static const char *skip_name(const char *p, const char *e) {
    if (p >= e) return p;
    if (*p == '(') return p + 3 <= e ? p + 3 : e;
    if (*p == '[') {
        const char *q = memchr(p, ']', (size_t)(e - p));
        return q ? q + 1 : e;
    }
    return p + 1;
}

/* Skip a delimited argument 'xxx' (\h'..', \w'..', ...). */
static const char *skip_delim(const char *p, const char *e) {
    if (p >= e) return p;
    char d = *p++;
    const char *q = memchr(p, d, (size_t)(e - p));
    return q ? q + 1 : e;
}

/* Text of [p, e) with escapes resolved. */
static void text(sbuf *s, const char *p, const char *e) {
    while (p < e) {
        unsigned char c = (unsigned char)*p;
        if (c != '\\') {
            if (c == '\t') put(s, ' ');
            else if (c >= 32 && c < 127) put(s, (char)c);
            p++;
            continue;
        }
        if (++p >= e) break;
        char k = *p++;
        switch (k) {
        case '"': return; /* comment to end of line */
        case '-': put(s, '-'); break;
        case 'e': case '\\': put(s, '\\'); break;
        case ' ': case '~': case '0': case 't': put(s, ' '); break;
        case '&': case '|': case '^': case ',': case '/': case ':': case ')': case '%':
        case 'c': case '{': case '}': case 'a': case 'd': case 'u': case 'r': case 'p': break;
        case '.': put(s, '.'); break;
        case '\'': put(s, '\''); break;
        case '`': put(s, '`'); break;
        case '(':
            if (p + 2 <= e) put_special(s, p, 2);
            p = p + 2 <= e ? p + 2 : e;
            break;
        case '[': {
            const char *q = memchr(p, ']', (size_t)(e - p));
            if (q) put_special(s, p, (size_t)(q - p));
            p = q ? q + 1 : e;
            break;
        }
        case 'f': case '*': case 'n': case 'F': case 'm': case 'M': case 'g': case 'k': case 'V':
        case 'Y': case '$':
            if (k == 'n' && p < e && (*p == '+' || *p == '-')) p++;
            p = skip_name(p, e);
            break;
        case 's':
            if (p < e && (*p == '+' || *p == '-')) p++;
            if (p < e && (*p == '(' || *p == '[')) p = skip_name(p, e);
            else
                while (p < e && *p >= '0' && *p <= '9') p++;
            break;
        case 'h': case 'v': case 'w': case 'o': case 'l': case 'L': case 'Z': case 'D': case 'X':
        case 'N': case 'b': case 'x': case 'R': case 'A': case 'B': case 'C':
            p = skip_delim(p, e);
            break;
        default:
            if ((unsigned char)k >= 32 && (unsigned char)k < 127) put(s, k);
        }
    }
}

/* Macro arguments, quotes honoured; joined by spaces (or not, for the
 * alternating-font macros). */
static void args(sbuf *s, const char *p, const char *e, int join) {
    int first = 1;
    while (p < e) {
        while (p < e && (*p == ' ' || *p == '\t')) p++;
        if (p >= e) break;
        const char *a = p, *ae;
        if (*p == '"') {
            a = ++p;
            while (p < e && !(*p == '"' && (p + 1 >= e || p[1] != '"'))) p += (*p == '"') ? 2 : 1;
            ae = p < e ? p : e;
            if (p < e) p++;
        } else {
            while (p < e && *p != ' ' && *p != '\t') p++;
            ae = p;
        }
        if (!first && !join) put(s, ' ');
        text(s, a, ae);
        first = 0;
    }
}

static int is_macro(const char *name, size_t n, const char *list) {
    /* list: space-separated names */
    for (const char *q = list; *q;) {
        const char *sp = strchr(q, ' ');
        size_t k = sp ? (size_t)(sp - q) : strlen(q);
        if (k == n && !memcmp(q, name, n)) return 1;
        if (!sp) break;
        q = sp + 1;
    }
    return 0;
}

char *rw_roff_to_text(const char *src, size_t n, size_t *out_len) {
    sbuf s = {0};
    const char *end = src + n;
    int in_def = 0, nofill = 0;
    /* each text line ends with end_line(): a space in fill mode, '\n' in .nf */
#define END_LINE() (nofill ? hard(&s) : soft(&s))
    for (const char *p = src; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        const char *next = nl ? nl + 1 : end;
        if (in_def) { /* .de NAME ... .. */
            if (le - p >= 2 && p[0] == '.' && p[1] == '.') in_def = 0;
            p = next;
            continue;
        }
        if (p < le && (*p == '.' || *p == '\'')) {
            const char *q = p + 1;
            while (q < le && (*q == ' ' || *q == '\t')) q++;
            const char *nm = q;
            while (q < le && *q != ' ' && *q != '\t') q++;
            size_t k = (size_t)(q - nm);
            if (k >= 2 && (!memcmp(nm, "de", 2) || !memcmp(nm, "am", 2) || !memcmp(nm, "ig", 2)) &&
                (k == 2 || (k == 3 && nm[2] == '1'))) {
                in_def = 1;
            } else if (is_macro(nm, k, "SH SS")) {
                para(&s);
                args(&s, q, le, 0);
                hard(&s);
            } else if (is_macro(nm, k, "B I SM SB")) {
                args(&s, q, le, 0);
                END_LINE();
            } else if (is_macro(nm, k, "BR IR RB BI IB RI")) {
                args(&s, q, le, 1);
                END_LINE();
            } else if (is_macro(nm, k, "nf EX")) {
                hard(&s);
                nofill = 1;
            } else if (is_macro(nm, k, "fi EE")) {
                hard(&s);
                nofill = 0;
            } else if (is_macro(nm, k, "PP P LP sp")) {
                para(&s);
            } else if (is_macro(nm, k, "IP")) { /* tag: first argument */
                hard(&s);
                const char *a = q;
                while (a < le && (*a == ' ' || *a == '\t')) a++;
                if (a < le) {
                    const char *ae = a;
                    if (*a == '"') {
                        a++;
                        ae = memchr(a, '"', (size_t)(le - a));
                        if (!ae) ae = le;
                    } else {
                        while (ae < le && *ae != ' ' && *ae != '\t') ae++;
                    }
                    text(&s, a, ae);
                    hard(&s);
                }
            } else if (is_macro(nm, k, "TP br")) {
                hard(&s);
            }
            /* every other request (.TH, comments, .RS, .nf, .if, .ds, ...): dropped */
        } else {
            if (le == p) {
                para(&s); /* a blank source line is a paragraph break */
            } else {
                text(&s, p, le);
                END_LINE();
            }
        }
        p = next;
    }
#undef END_LINE
    hard(&s);
    put(&s, 0);
    *out_len = s.n - 1;
    return s.b;
}
