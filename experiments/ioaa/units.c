/* Numeric answers with units: extraction from a response and unit-aware
 * comparison (automatic grading of numeric rubric items). */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ioaa/ioaa.h"

typedef struct unit_def {
    const char *name;
    double factor; /* to SI (angles to degrees) */
    const char *dim;
} unit_def;

/* Astronomical values as on the IOAA constants sheets (IAU 2012/2015). */
static const unit_def units[] = {
    {"", 1, ""},
    {"m", 1, "L"}, {"km", 1e3, "L"}, {"cm", 1e-2, "L"}, {"mm", 1e-3, "L"}, {"nm", 1e-9, "L"},
    {"AU", 1.495978707e11, "L"}, {"au", 1.495978707e11, "L"},
    {"pc", 3.0856775814913673e16, "L"}, {"kpc", 3.0856775814913673e19, "L"},
    {"Mpc", 3.0856775814913673e22, "L"}, {"ly", 9.4607304725808e15, "L"},
    {"R_sun", 6.957e8, "L"}, {"R_earth", 6.371e6, "L"},
    {"s", 1, "T"}, {"min", 60, "T"}, {"h", 3600, "T"}, {"hr", 3600, "T"},
    {"day", 86400, "T"}, {"d", 86400, "T"}, {"yr", 3.15576e7, "T"}, {"Myr", 3.15576e13, "T"},
    {"Gyr", 3.15576e16, "T"},
    {"kg", 1, "M"}, {"g", 1e-3, "M"}, {"M_sun", 1.98847e30, "M"}, {"M_earth", 5.9722e24, "M"},
    {"K", 1, "Th"},
    {"W", 1, "P"}, {"L_sun", 3.828e26, "P"}, {"J", 1, "E"}, {"erg", 1e-7, "E"}, {"eV", 1.602176634e-19, "E"},
    {"m/s", 1, "V"}, {"km/s", 1e3, "V"}, {"km/s/Mpc", 1, "H"},
    {"deg", 1, "A"}, {"arcmin", 1.0 / 60, "A"}, {"arcsec", 1.0 / 3600, "A"},
    {"rad", 57.29577951308232, "A"}, {"mag", 1, "mag"}, {"Hz", 1, "F"},
};

int ioaa_unit(const char *name, double *factor, char *dim, size_t dimlen) {
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (!strcmp(units[i].name, name)) {
            *factor = units[i].factor;
            snprintf(dim, dimlen, "%s", units[i].dim);
            return 0;
        }
    return -1;
}

/* A number as models write it: "1.5e11", "-3.2", "1.5 \times 10^{11}",
 * "1.5x10^11", "1.5\cdot10^{11}". Returns the end or NULL. */
static const char *parse_number(const char *s, double *out) {
    char *end;
    double v = strtod(s, &end);
    if (end == s || !isfinite(v)) return NULL;
    const char *p = end;
    while (*p == ' ') p++;
    const char *mult[] = {"\\times", "\\cdot", "x", "*", "×"};
    for (size_t i = 0; i < sizeof mult / sizeof mult[0]; i++) {
        size_t n = strlen(mult[i]);
        if (strncmp(p, mult[i], n)) continue;
        const char *q = p + n;
        while (*q == ' ') q++;
        if (strncmp(q, "10^", 3)) break;
        q += 3;
        int brace = *q == '{';
        if (brace) q++;
        char *e2;
        long ex = strtol(q, &e2, 10);
        if (e2 == q || labs(ex) > 400) break;
        q = e2;
        if (brace) {
            if (*q != '}') break;
            q++;
        }
        v *= pow(10.0, (double)ex);
        end = (char *)q;
        break;
    }
    *out = v;
    return end;
}

/* Unit text after the number: strip "\mathrm{...}", "\,", "~", "$", braces. */
static void parse_unit(const char *s, char *unit, size_t n) {
    char buf[64];
    size_t k = 0;
    while (*s && *s != '\n' && k + 1 < sizeof buf) {
        if (!strncmp(s, "\\mathrm", 7)) { s += 7; continue; }
        if (!strncmp(s, "\\text", 5)) { s += 5; continue; }
        if (!strncmp(s, "\\,", 2)) { s += 2; continue; }
        if (*s == '{' || *s == '}' || *s == '$' || *s == '~' || *s == '\\') { s++; continue; }
        if (*s == ' ' && k == 0) { s++; continue; }
        if (*s == ' ' || *s == '.' || *s == ',' || *s == ';') break;
        buf[k++] = *s++;
    }
    buf[k] = 0;
    snprintf(unit, n, "%s", buf);
}

int ioaa_extract_numeric(const char *response, const char *item_id, int only_item, double *value,
                         char *unit, size_t unitlen) {
    /* "ANSWER <item>: <number> <unit>", the last such line wins. */
    char tag[64];
    snprintf(tag, sizeof tag, "ANSWER %s:", item_id);
    const char *found = NULL;
    for (const char *p = response; (p = strstr(p, tag)); p += strlen(tag)) found = p;
    const char *num = NULL;
    if (found) {
        num = found + strlen(tag);
    } else if (only_item) {
        for (const char *p = response; (p = strstr(p, "\\boxed{")); p += 7) num = p + 7;
    }
    if (!num) return -1;
    while (*num == ' ' || *num == '$' || *num == '{') num++;
    double v;
    const char *e = parse_number(num, &v);
    if (!e) return -1;
    *value = v;
    parse_unit(e, unit, unitlen);
    return 0;
}

int ioaa_numeric_match(double value, const char *unit, double ref, const char *ref_unit,
                       double rel_tol) {
    double fa, fb;
    char da[16], db[16];
    if (ioaa_unit(unit, &fa, da, sizeof da) || ioaa_unit(ref_unit, &fb, db, sizeof db)) return 0;
    if (strcmp(da, db)) return 0;
    double a = value * fa, b = ref * fb;
    if (!isfinite(a) || !isfinite(b)) return 0;
    return fabs(a - b) <= rel_tol * fabs(b);
}
