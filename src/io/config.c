/* Strict JSON configuration bound to C structs through dl_field tables. */
#include "dynlab/config.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void set_err(char *err, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t n, const char *fmt, ...) {
    if (!err || !n) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, n, fmt, ap);
    va_end(ap);
    /* Keys and values come from the user: a newline or other control byte in
     * them must not split the one error line (found by fuzz_config). */
    for (char *p = err; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f) *p = '?';
}

static const dl_field *find_field(const dl_config_schema *s, const char *key) {
    for (int i = 0; i < s->n_fields; i++)
        if (strcmp(s->fields[i].key, key) == 0) return &s->fields[i];
    return NULL;
}

/* Is `prefix` ("train") the leading part of some dotted key ("train.lr")? */
static int is_section(const dl_config_schema *s, const char *prefix) {
    size_t n = strlen(prefix);
    for (int i = 0; i < s->n_fields; i++)
        if (strncmp(s->fields[i].key, prefix, n) == 0 && s->fields[i].key[n] == '.') return 1;
    return 0;
}

static int enum_ok(const char *choices, const char *v) {
    size_t n = strlen(v);
    const char *p = choices;
    while (p && *p) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && strncmp(p, v, n) == 0) return 1;
        p = bar ? bar + 1 : NULL;
    }
    return 0;
}

static int parse_list_text(const char *text, dl_dlist *out) {
    out->n = 0;
    const char *p = text;
    while (p && *p) {
        char *end;
        double v = strtod(p, &end);
        if (end == p) return -1;
        if (out->n >= DL_LIST_MAX) return -1;
        out->v[out->n++] = v;
        p = end;
        while (*p == ' ' || *p == ',') p++;
    }
    return 0;
}

/* Offset of the first byte that breaks UTF-8 (RFC 3629: no overlong forms,
 * no surrogates, nothing above U+10FFFF), or -1 when s is valid. config.json
 * must stay readable by strict JSON parsers. */
static long utf8_invalid_at(const char *str) {
    const unsigned char *s = (const unsigned char *)str;
    for (long i = 0; s[i];) {
        unsigned c = s[i];
        int n;
        unsigned min;
        if (c < 0x80) { i++; continue; }
        else if ((c & 0xE0) == 0xC0) { n = 1; min = 0x80; c &= 0x1F; }
        else if ((c & 0xF0) == 0xE0) { n = 2; min = 0x800; c &= 0x0F; }
        else if ((c & 0xF8) == 0xF0) { n = 3; min = 0x10000; c &= 0x07; }
        else return i;
        for (int k = 1; k <= n; k++) {
            if ((s[i + k] & 0xC0) != 0x80) return i;
            c = (c << 6) | (s[i + k] & 0x3F);
        }
        if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return i;
        i += n + 1;
    }
    return -1;
}

static int check_range(const dl_field *f, double v, char *err, size_t errlen) {
    if (!isfinite(v) || v < f->min || v > f->max) {
        set_err(err, errlen, "config key '%s': value %g out of range [%g, %g]", f->key, v, f->min,
                f->max);
        return -1;
    }
    return 0;
}

static int assign(const dl_field *f, void *cfg, const cJSON *j, char *err, size_t errlen) {
    char *base = (char *)cfg + f->offset;
    switch (f->type) {
    case DL_FT_INT: {
        if (!cJSON_IsNumber(j) || j->valuedouble != floor(j->valuedouble)) {
            set_err(err, errlen, "config key '%s': expected an integer", f->key);
            return -1;
        }
        if (check_range(f, j->valuedouble, err, errlen)) return -1;
        *(int *)base = (int)j->valuedouble;
        return 0;
    }
    case DL_FT_DOUBLE:
        if (!cJSON_IsNumber(j)) {
            set_err(err, errlen, "config key '%s': expected a number", f->key);
            return -1;
        }
        if (check_range(f, j->valuedouble, err, errlen)) return -1;
        *(double *)base = j->valuedouble;
        return 0;
    case DL_FT_BOOL:
        if (!cJSON_IsBool(j)) {
            set_err(err, errlen, "config key '%s': expected true or false", f->key);
            return -1;
        }
        *(int *)base = cJSON_IsTrue(j) ? 1 : 0;
        return 0;
    case DL_FT_STRING:
    case DL_FT_ENUM:
        if (!cJSON_IsString(j)) {
            set_err(err, errlen, "config key '%s': expected a string", f->key);
            return -1;
        }
        long bad = utf8_invalid_at(j->valuestring);
        if (bad >= 0) {
            set_err(err, errlen, "config key '%s': the value is not valid UTF-8 (byte %ld)", f->key,
                    bad);
            return -1;
        }
        if (strlen(j->valuestring) >= DL_STR_MAX) {
            set_err(err, errlen, "config key '%s': string longer than %d characters", f->key,
                    DL_STR_MAX - 1);
            return -1;
        }
        if (f->type == DL_FT_ENUM && !enum_ok(f->choices, j->valuestring)) {
            set_err(err, errlen, "config key '%s': '%s' is not one of %s", f->key, j->valuestring,
                    f->choices);
            return -1;
        }
        snprintf(base, DL_STR_MAX, "%s", j->valuestring);
        return 0;
    case DL_FT_LIST: {
        dl_dlist tmp = {0};
        if (cJSON_IsNumber(j)) {
            tmp.n = 1;
            tmp.v[0] = j->valuedouble;
        } else if (cJSON_IsArray(j)) {
            int n = cJSON_GetArraySize(j);
            if (n > DL_LIST_MAX) {
                set_err(err, errlen, "config key '%s': list longer than %d", f->key, DL_LIST_MAX);
                return -1;
            }
            for (int i = 0; i < n; i++) {
                const cJSON *e = cJSON_GetArrayItem(j, i);
                if (!cJSON_IsNumber(e)) {
                    set_err(err, errlen, "config key '%s': list items must be numbers", f->key);
                    return -1;
                }
                tmp.v[tmp.n++] = e->valuedouble;
            }
        } else {
            set_err(err, errlen, "config key '%s': expected a list of numbers", f->key);
            return -1;
        }
        for (int i = 0; i < tmp.n; i++)
            if (check_range(f, tmp.v[i], err, errlen)) return -1;
        *(dl_dlist *)base = tmp;
        return 0;
    }
    }
    return -1;
}

void dl_config_defaults(const dl_config_schema *s, void *out) {
    memset(out, 0, s->struct_size);
    for (int i = 0; i < s->n_fields; i++) {
        const dl_field *f = &s->fields[i];
        char *base = (char *)out + f->offset;
        switch (f->type) {
        case DL_FT_INT:
        case DL_FT_BOOL: *(int *)base = (int)f->def; break;
        case DL_FT_DOUBLE: *(double *)base = f->def; break;
        case DL_FT_STRING:
        case DL_FT_ENUM: snprintf(base, DL_STR_MAX, "%s", f->def_str ? f->def_str : ""); break;
        case DL_FT_LIST: parse_list_text(f->def_str ? f->def_str : "", (dl_dlist *)base); break;
        }
    }
}

static int apply_object(const dl_config_schema *s, void *cfg, const cJSON *obj, const char *prefix,
                        char *err, size_t errlen) {
    for (const cJSON *it = obj->child; it; it = it->next) {
        char key[256];
        if (prefix[0])
            snprintf(key, sizeof key, "%s.%s", prefix, it->string);
        else
            snprintf(key, sizeof key, "%s", it->string);
        const dl_field *f = find_field(s, key);
        if (f) {
            if (assign(f, cfg, it, err, errlen)) return -1;
        } else if (cJSON_IsObject(it) && is_section(s, key)) {
            if (apply_object(s, cfg, it, key, err, errlen)) return -1;
        } else {
            set_err(err, errlen, "unknown config key '%s'", key);
            return -1;
        }
    }
    return 0;
}

int dl_config_apply_json(const dl_config_schema *s, void *out, const char *json_text, char *err,
                         size_t errlen) {
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts(json_text, &end, 1);
    if (!root) {
        long off = end ? (long)(end - json_text) : 0;
        set_err(err, errlen, "invalid JSON near byte %ld", off);
        return -1;
    }
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        set_err(err, errlen, "config must be a JSON object");
        return -1;
    }
    int rc = apply_object(s, out, root, "", err, errlen);
    cJSON_Delete(root);
    return rc;
}

int dl_config_apply_set(const dl_config_schema *s, void *out, const char *assignment, char *err,
                        size_t errlen) {
    const char *eq = strchr(assignment, '=');
    if (!eq || eq == assignment) {
        set_err(err, errlen, "--set expects key=value, got '%s'", assignment);
        return -1;
    }
    char key[256];
    size_t kn = (size_t)(eq - assignment);
    if (kn >= sizeof key) kn = sizeof key - 1;
    memcpy(key, assignment, kn);
    key[kn] = 0;
    const dl_field *f = find_field(s, key);
    if (!f) {
        set_err(err, errlen, "unknown config key '%s'", key);
        return -1;
    }
    const char *val = eq + 1;
    /* The whole value must parse ("8,16" is not the number 8). */
    cJSON *j = cJSON_ParseWithOpts(val, NULL, 1);
    /* Bare words are strings for string/enum knobs: --set f=kl */
    if (!j || ((f->type == DL_FT_STRING || f->type == DL_FT_ENUM) && !cJSON_IsString(j))) {
        cJSON_Delete(j);
        j = NULL;
        dl_dlist l;
        if (f->type == DL_FT_LIST && parse_list_text(val, &l) == 0 && l.n > 0) {
            /* Lists also accept the plain form --set eps=1e-2,1e-3 */
            j = cJSON_CreateArray();
            for (int i = 0; i < l.n; i++) cJSON_AddItemToArray(j, cJSON_CreateNumber(l.v[i]));
        } else {
            j = cJSON_CreateString(val);
        }
    }
    int rc = assign(f, out, j, err, errlen);
    cJSON_Delete(j);
    return rc;
}

/* Insert value at dotted key path inside root, creating sub-objects. */
static void put_path(cJSON *root, const char *key, cJSON *value) {
    char buf[256];
    snprintf(buf, sizeof buf, "%s", key);
    cJSON *node = root;
    char *p = buf;
    for (char *dot; (dot = strchr(p, '.')); p = dot + 1) {
        *dot = 0;
        cJSON *child = cJSON_GetObjectItemCaseSensitive(node, p);
        if (!child) {
            child = cJSON_CreateObject();
            cJSON_AddItemToObject(node, p, child);
        }
        node = child;
    }
    cJSON_AddItemToObject(node, p, value);
}

char *dl_config_to_json(const dl_config_schema *s, const void *cfg) {
    cJSON *root = cJSON_CreateObject();
    for (int i = 0; i < s->n_fields; i++) {
        const dl_field *f = &s->fields[i];
        const char *base = (const char *)cfg + f->offset;
        cJSON *v = NULL;
        switch (f->type) {
        case DL_FT_INT: v = cJSON_CreateNumber(*(const int *)base); break;
        case DL_FT_DOUBLE: v = cJSON_CreateNumber(*(const double *)base); break;
        case DL_FT_BOOL: v = cJSON_CreateBool(*(const int *)base); break;
        case DL_FT_STRING:
        case DL_FT_ENUM: v = cJSON_CreateString(base); break;
        case DL_FT_LIST: {
            const dl_dlist *l = (const dl_dlist *)base;
            v = cJSON_CreateArray();
            for (int k = 0; k < l->n; k++) cJSON_AddItemToArray(v, cJSON_CreateNumber(l->v[k]));
            break;
        }
        }
        put_path(root, f->key, v);
    }
    char *txt = cJSON_Print(root);
    cJSON_Delete(root);
    return txt;
}

void dl_config_print_help(const dl_config_schema *s, const void *cfg, FILE *out) {
    for (int i = 0; i < s->n_fields; i++) {
        const dl_field *f = &s->fields[i];
        const char *base = (const char *)cfg + f->offset;
        char val[160];
        switch (f->type) {
        case DL_FT_INT: snprintf(val, sizeof val, "%d", *(const int *)base); break;
        case DL_FT_DOUBLE: snprintf(val, sizeof val, "%g", *(const double *)base); break;
        case DL_FT_BOOL: snprintf(val, sizeof val, "%s", *(const int *)base ? "true" : "false"); break;
        case DL_FT_STRING: snprintf(val, sizeof val, "\"%s\"", base); break;
        case DL_FT_ENUM: snprintf(val, sizeof val, "%s  {%s}", base, f->choices); break;
        case DL_FT_LIST: {
            const dl_dlist *l = (const dl_dlist *)base;
            int o = snprintf(val, sizeof val, "[");
            for (int k = 0; k < l->n && o < (int)sizeof val - 16; k++)
                o += snprintf(val + o, sizeof val - o, "%s%g", k ? "," : "", l->v[k]);
            snprintf(val + o, sizeof val - o, "]");
            break;
        }
        }
        fprintf(out, "  %-28s %-22s %s\n", f->key, val, f->help ? f->help : "");
    }
}
