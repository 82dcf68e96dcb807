/* The static HTML report (include/dynlab/report.h).
 *
 * Reads each run directory's summary.json (written by dl_run_close: experiment,
 * title, arxiv, summary, preset, seed, wall_seconds, final, claims, plots) and
 * config.json, copies what the pages show into out_dir/assets/<slug>/, and
 * writes out_dir/index.html plus out_dir/<slug>.html per run. A run made with
 * `--control untrained` (summary "control") is paired with a trained run of
 * the same system: the trained run's claims table shows each claim's kind and
 * the control's measured value and result beside its own, and flags a learned
 * claim that passes untrained (it certifies nothing about learning). Every string
 * from the runs is HTML-escaped; file names are checked before they are
 * copied or linked. Pages are plain HTML with a small inline stylesheet. */
#define _POSIX_C_SOURCE 200809L
#include "dynlab/report.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_util.h"

typedef struct rep_run {
    const char *dir;
    char slug[72];
    cJSON *summary, *config; /* config NULL when absent or unreadable */
    int passed, total;
    int is_control;     /* summary "control" is "untrained" */
    int pair;           /* trained run: index of its control run; control: of its trained run; -1 none */
    int learned, learned_pass; /* learned claims, and how many of them pass */
    char thumb[200]; /* first figure, relative to out_dir; "" if none */
} rep_run;

static const char *CSS =
    "body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0;color:#1d2330;"
    "background:#f6f7f9}\n"
    "main{max-width:1120px;margin:0 auto;padding:20px 24px 48px}\n"
    "h1{font-size:1.55em;margin:.3em 0 .2em}h2{font-size:1.2em;margin-top:1.8em;border-bottom:1px solid #d5dae1;"
    "padding-bottom:.2em}\n"
    "table{border-collapse:collapse;width:100%;background:#fff;margin:.6em 0}\n"
    "th,td{border:1px solid #dde1e7;padding:6px 9px;text-align:left;vertical-align:top}\n"
    "th{background:#eef1f5;font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums;"
    "white-space:nowrap}\n"
    ".pass{background:#e2f5e7;color:#11652c;font-weight:600}.fail{background:#fde4e1;color:#9b1c12;"
    "font-weight:600}.none{color:#667}\n"
    ".badge{display:inline-block;padding:1px 9px;border-radius:10px;white-space:nowrap}\n"
    "th,td.nowrap{white-space:nowrap}td.measured{text-align:right;overflow-wrap:anywhere}\n"
    "table.claims td{overflow-wrap:anywhere}\n"
    "figure{background:#fff;border:1px solid #dde1e7;margin:16px 0;padding:12px}\n"
    "figure img{max-width:100%;height:auto;display:block;margin:0 auto}\n"
    "figcaption{color:#3a4150;margin-top:8px}.muted{color:#667;font-size:.92em}\n"
    "img.thumb{width:220px;height:auto;border:1px solid #dde1e7;background:#fff;display:block}\n"
    "code{background:#eef1f5;padding:1px 4px;border-radius:3px}a{color:#0b5cad}\n"
    "p.lead{font-size:1.05em;max-width:62em}\n"
    ".flag{background:#fff1cc;color:#7a4b00;font-weight:600}.kind{white-space:nowrap;color:#3a4150}\n";

/* ---- small readers over cJSON ------------------------------------------- */

static const char *jstr(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) && v->valuestring ? v->valuestring : NULL;
}

static int jnum(const cJSON *o, const char *key, double *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(v)) return 0;
    *out = v->valuedouble;
    return 1;
}

/* A JSON scalar as text: numbers compactly, strings as is, others as JSON. */
static void json_value_text(FILE *f, const cJSON *v) {
    if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        if (d == floor(d) && fabs(d) < 1e15) fprintf(f, "%.0f", d);
        else fprintf(f, "%.6g", d);
    } else if (cJSON_IsString(v)) {
        html_text(f, v->valuestring);
    } else if (cJSON_IsBool(v)) {
        fputs(cJSON_IsTrue(v) ? "true" : "false", f);
    } else if (cJSON_IsNull(v)) {
        fputs("null", f);
    } else {
        char *s = cJSON_PrintUnformatted(v);
        if (s && strlen(s) > 300) strcpy(s + 290, " …");
        html_text(f, s);
        free(s);
    }
}

/* ---- loading -------------------------------------------------------------- */

static int load_run(rep_run *r, const char *dir, char *err, size_t errlen) {
    char path[1400];
    r->dir = dir;
    snprintf(path, sizeof path, "%s/summary.json", dir);
    char *txt = rep_read_file(path, NULL);
    if (!txt) {
        snprintf(err, errlen, "run directory '%s' has no summary.json (not a finished dynlab run?)", dir);
        return -1;
    }
    r->summary = cJSON_Parse(txt);
    if (r->summary) rep_exact_seed(r->summary, txt);
    free(txt);
    if (!cJSON_IsObject(r->summary)) {
        snprintf(err, errlen, "%s is not a valid summary (JSON object expected)", path);
        return -1;
    }
    snprintf(path, sizeof path, "%s/config.json", dir);
    txt = rep_read_file(path, NULL);
    if (txt) {
        r->config = cJSON_Parse(txt);
        free(txt);
    }
    const cJSON *claims = cJSON_GetObjectItemCaseSensitive(r->summary, "claims");
    const cJSON *c;
    cJSON_ArrayForEach(c, claims) {
        int pass = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "pass"));
        const char *kind = jstr(c, "kind");
        r->total++;
        r->passed += pass;
        if (kind && !strcmp(kind, "learned")) {
            r->learned++;
            r->learned_pass += pass;
        }
    }
    const char *control = jstr(r->summary, "control");
    r->is_control = control && !strcmp(control, "untrained");
    r->pair = -1;
    return 0;
}

/* Pair each trained run with the first unpaired control run of the same
 * experiment (in the order given). */
static void pair_controls(rep_run *runs, int n) {
    for (int k = 0; k < n; k++) {
        if (runs[k].is_control) continue;
        const char *exp = jstr(runs[k].summary, "experiment");
        for (int j = 0; j < n && exp; j++) {
            const char *e2 = jstr(runs[j].summary, "experiment");
            if (!runs[j].is_control || runs[j].pair >= 0 || !e2 || strcmp(exp, e2)) continue;
            runs[k].pair = j;
            runs[j].pair = k;
            break;
        }
    }
}

/* The claim with this id in a run's summary, or NULL. */
static const cJSON *find_claim(const rep_run *r, const char *id) {
    const cJSON *c;
    if (!id) return NULL;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(r->summary, "claims")) {
        const char *cid = jstr(c, "id");
        if (cid && !strcmp(cid, id)) return c;
    }
    return NULL;
}

static int claim_is_learned(const cJSON *c) {
    const char *kind = jstr(c, "kind");
    return kind && !strcmp(kind, "learned");
}

/* Page name from the experiment name: [A-Za-z0-9_-], unique in the report. */
static void make_slug(rep_run *runs, int k) {
    const char *name = jstr(runs[k].summary, "experiment");
    if (!name || !*name) {
        name = strrchr(runs[k].dir, '/');
        name = name && name[1] ? name + 1 : runs[k].dir;
    }
    char base[48];
    int n = 0;
    for (const char *p = name; *p && n < (int)sizeof base - 1; p++) {
        char c = *p;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
        base[n++] = ok ? c : '_';
    }
    base[n] = 0;
    if (n == 0 || !strcmp(base, "index") || !strcmp(base, "assets")) snprintf(base, sizeof base, "run_%s", n ? name : "x");
    if (runs[k].is_control) {
        char b2[64];
        snprintf(b2, sizeof b2, "%s-untrained", base);
        snprintf(base, sizeof base, "%.47s", b2);
    }
    snprintf(runs[k].slug, sizeof runs[k].slug, "%s", base);
    for (int suffix = 2;; suffix++) {
        int clash = 0;
        for (int j = 0; j < k; j++) clash |= !strcmp(runs[j].slug, runs[k].slug);
        if (!clash) break;
        snprintf(runs[k].slug, sizeof runs[k].slug, "%s-%d", base, suffix);
    }
}

/* ---- copying a run's files into assets/<slug>/ ------------------------------ */

static int copy_into(const char *from_dir, const char *name, const char *to_dir) {
    char src[1400], dst[1400];
    snprintf(src, sizeof src, "%s/%s", from_dir, name);
    if (!rep_is_file(src)) return 0;
    snprintf(dst, sizeof dst, "%s/%s", to_dir, name);
    return rep_copy_file(src, dst) == 0 ? 1 : -1;
}

/* Copy raw files and every registered figure (PNG, and the SVG, data and
 * gnuplot script beside it when present). Sets r->thumb. */
static int copy_assets(rep_run *r, const char *out_dir, char *err, size_t errlen) {
    char adir[1400], pdir[1500], src_plots[1400];
    snprintf(adir, sizeof adir, "%s/assets/%s", out_dir, r->slug);
    snprintf(pdir, sizeof pdir, "%s/plots", adir);
    snprintf(src_plots, sizeof src_plots, "%s/plots", r->dir);
    if (rep_mkdir_p(pdir) != 0) {
        snprintf(err, errlen, "cannot create %s", pdir);
        return -1;
    }
    const char *raw[] = {"summary.json", "config.json", "metrics.jsonl", "log.txt"};
    for (int i = 0; i < 4; i++)
        if (copy_into(r->dir, raw[i], adir) < 0) {
            snprintf(err, errlen, "cannot copy %s/%s into %s", r->dir, raw[i], adir);
            return -1;
        }
    const cJSON *plots = cJSON_GetObjectItemCaseSensitive(r->summary, "plots"), *p;
    cJSON_ArrayForEach(p, plots) {
        const char *file = jstr(p, "file");
        if (!rep_safe_name(file)) continue;
        int got = copy_into(src_plots, file, pdir);
        if (got < 0) {
            snprintf(err, errlen, "cannot copy %s/%s into %s", src_plots, file, pdir);
            return -1;
        }
        if (got == 1 && !r->thumb[0]) snprintf(r->thumb, sizeof r->thumb, "assets/%s/plots/%s", r->slug, file);
        const char *dot = strrchr(file, '.');
        size_t stem = dot ? (size_t)(dot - file) : strlen(file);
        const char *side[] = {".svg", ".dat", ".gp"};
        for (int i = 0; i < 3; i++) {
            char name[256];
            snprintf(name, sizeof name, "%.*s%s", (int)stem, file, side[i]);
            if (strcmp(name, file) != 0 && copy_into(src_plots, name, pdir) < 0) {
                snprintf(err, errlen, "cannot copy %s/%s", src_plots, name);
                return -1;
            }
        }
    }
    return 0;
}

/* ---- pages ----------------------------------------------------------------- */

static void page_head(FILE *f, const char *title) {
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>",
          f);
    html_text(f, title);
    fprintf(f, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<main>\n", CSS);
}

static void page_tail(FILE *f) {
    fputs("<p class=\"muted\">Generated by <code>dynlab report</code>: static files, no scripts, no network "
          "access.</p>\n</main>\n</body>\n</html>\n",
          f);
}

static void claims_badge(FILE *f, const rep_run *r) {
    if (r->total == 0) fputs("<span class=\"badge none\">no claims</span>", f);
    else
        fprintf(f, "<span class=\"badge %s\">%d / %d pass</span>", r->passed == r->total ? "pass" : "fail",
                r->passed, r->total);
}

static void arxiv_link(FILE *f, const char *arxiv) {
    if (!arxiv || !*arxiv) return;
    fputs("<a href=\"https://arxiv.org/abs/", f);
    html_url(f, arxiv);
    fputs("\">arXiv:", f);
    html_text(f, arxiv);
    fputs("</a>", f);
}

static void measured_cell(FILE *f, const cJSON *c) {
    const char *mt = jstr(c, "measured_text");
    double m;
    if (mt && *mt) html_text(f, mt);
    else if (jnum(c, "measured", &m)) fprintf(f, "%.4g", m);
    else fputs("n/a", f);
}

/* The claims of run r; ctrl (may be NULL) is r's untrained control, whose
 * measured value and result are shown beside r's. When r is itself a
 * control, a learned claim that passes is flagged. */
static void claims_table(FILE *f, const rep_run *r, const rep_run *ctrl) {
    const cJSON *claims = cJSON_GetObjectItemCaseSensitive(r->summary, "claims"), *c;
    if (r->total == 0) {
        fputs("<p class=\"none\">This run recorded no claims.</p>\n", f);
        return;
    }
    if (ctrl)
        fputs("<table class=\"claims\" id=\"claims-table\">\n<colgroup><col style=\"width:4%\"><col style=\"width:25%\">"
              "<col style=\"width:15%\"><col style=\"width:7%\"><col style=\"width:10%\"><col style=\"width:14%\">"
              "<col style=\"width:6%\"><col style=\"width:13%\"><col style=\"width:6%\"></colgroup>\n<thead><tr><th>ID</th>"
              "<th>Claim (the paper's statement as a check)</th><th>Where the paper states it</th><th>Kind</th>"
              "<th>Threshold</th><th>Measured</th><th>Result</th><th>Untrained control: measured</th>"
              "<th>Control result</th></tr></thead>\n<tbody>\n",
              f);
    else
        fputs("<table class=\"claims\" id=\"claims-table\">\n<colgroup><col style=\"width:5%\"><col style=\"width:31%\">"
              "<col style=\"width:20%\"><col style=\"width:8%\"><col style=\"width:12%\"><col style=\"width:17%\">"
              "<col style=\"width:7%\"></colgroup>\n<thead><tr><th>ID</th><th>Claim (the paper's statement as a check)</th>"
              "<th>Where the paper states it</th><th>Kind</th><th>Threshold</th><th>Measured</th><th>Result</th></tr>"
              "</thead>\n<tbody>\n",
              f);
    cJSON_ArrayForEach(c, claims) {
        int pass = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "pass"));
        const char *kind = jstr(c, "kind");
        fputs("<tr><td>", f);
        html_text(f, jstr(c, "id"));
        fputs("</td><td>", f);
        html_text(f, jstr(c, "statement"));
        fputs("</td><td>", f);
        html_text(f, jstr(c, "source"));
        fputs("</td><td class=\"kind\">", f);
        html_text(f, kind ? kind : "unspecified");
        fputs("</td><td>", f);
        html_text(f, jstr(c, "threshold"));
        fputs("</td><td class=\"measured\">", f);
        measured_cell(f, c);
        if (r->is_control && pass && claim_is_learned(c))
            fputs("</td><td class=\"flag\">PASS<br>(learned claim passes untrained)</td>", f);
        else
            fprintf(f, "</td><td class=\"%s\">%s</td>", pass ? "pass" : "fail", pass ? "PASS" : "FAIL");
        if (ctrl) {
            const cJSON *cc = find_claim(ctrl, jstr(c, "id"));
            if (!cc) {
                fputs("<td class=\"none\">not recorded</td><td class=\"none\">n/a</td>", f);
            } else {
                int cpass = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cc, "pass"));
                fputs("<td class=\"measured\">", f);
                measured_cell(f, cc);
                if (cpass && claim_is_learned(c))
                    fputs("</td><td class=\"flag\">PASS<br>(learned claim passes untrained)</td>", f);
                else
                    fprintf(f, "</td><td class=\"%s\">%s</td>", cpass ? "pass" : "fail", cpass ? "PASS" : "FAIL");
            }
        }
        fputs("</tr>\n", f);
    }
    fputs("</tbody>\n</table>\n", f);
    if (ctrl) {
        fputs("<p class=\"muted\">Untrained control: the same run with learning disabled (<a href=\"", f);
        html_url(f, ctrl->slug);
        fputs(".html\">its page</a>). A <em>learned</em> claim is a property training must produce and should FAIL "
              "there; a <em>structural</em> one (an identity, closed form, solver optimality or a property of the "
              "architecture) may pass.</p>\n",
              f);
    }
}

/* "k of n learned claims fail untrained" for a control run. */
static void control_badge(FILE *f, const rep_run *ctrl) {
    int ok = ctrl->learned > 0 && ctrl->learned_pass == 0;
    fprintf(f, "<span class=\"badge %s\">%d / %d learned fail untrained</span>", ok ? "pass" : "fail",
            ctrl->learned - ctrl->learned_pass, ctrl->learned);
    if (ctrl->learned_pass > 0) {
        fputs("<br><span class=\"muted\">pass untrained:", f);
        const cJSON *c;
        cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(ctrl->summary, "claims")) {
            if (!claim_is_learned(c) || !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "pass"))) continue;
            fputc(' ', f);
            html_text(f, jstr(c, "id"));
        }
        fputs("</span>", f);
    }
}

static void figures(FILE *f, const rep_run *r, const char *out_dir) {
    const cJSON *plots = cJSON_GetObjectItemCaseSensitive(r->summary, "plots"), *p;
    int n = 0;
    cJSON_ArrayForEach(p, plots) {
        const char *file = jstr(p, "file"), *caption = jstr(p, "caption");
        if (!rep_safe_name(file)) continue;
        char rel[400], path[1800];
        snprintf(rel, sizeof rel, "assets/%s/plots/%s", r->slug, file);
        snprintf(path, sizeof path, "%s/%s", out_dir, rel);
        n++;
        fputs("<figure id=\"fig-", f);
        html_url(f, file);
        fputs("\">\n", f);
        if (rep_is_file(path)) {
            fputs("<img src=\"", f);
            html_url(f, rel);
            fputs("\" alt=\"", f);
            html_text(f, caption && *caption ? caption : file);
            fputs("\">\n", f);
        } else {
            fputs("<p class=\"none\">Figure <code>", f);
            html_text(f, file);
            fputs("</code> was not rendered (was gnuplot installed?).</p>\n", f);
        }
        fputs("<figcaption>", f);
        html_text(f, caption);
        /* Links to the vector version and the numbers behind the figure. */
        const char *dot = strrchr(file, '.');
        size_t stem = dot ? (size_t)(dot - file) : strlen(file);
        const char *side[] = {".svg", ".dat", ".gp"}, *label[] = {"SVG", "data", "gnuplot script"};
        int first = 1;
        for (int i = 0; i < 3; i++) {
            char srel[400];
            snprintf(srel, sizeof srel, "assets/%s/plots/%.*s%s", r->slug, (int)stem, file, side[i]);
            snprintf(path, sizeof path, "%s/%s", out_dir, srel);
            if (!rep_is_file(path) || !strcmp(srel, rel)) continue;
            fputs(first ? " <span class=\"muted\">(" : " · ", f);
            fputs("<a href=\"", f);
            html_url(f, srel);
            fprintf(f, "\">%s</a>", label[i]);
            first = 0;
        }
        if (!first) fputs(")</span>", f);
        fputs("</figcaption>\n</figure>\n", f);
    }
    if (n == 0) fputs("<p class=\"none\">This run registered no figures.</p>\n", f);
}

static void final_table(FILE *f, const rep_run *r) {
    const cJSON *fin = cJSON_GetObjectItemCaseSensitive(r->summary, "final"), *v;
    if (!cJSON_IsObject(fin) || !fin->child) {
        fputs("<p class=\"none\">No final values recorded.</p>\n", f);
        return;
    }
    fputs("<table class=\"final\">\n<thead><tr><th>Quantity</th><th>Value</th></tr></thead>\n<tbody>\n", f);
    cJSON_ArrayForEach(v, fin) {
        fputs("<tr><td>", f);
        html_text(f, v->string);
        fputs("</td><td class=\"num\">", f);
        if (cJSON_IsNull(v)) fputs("n/a (not finite)", f); /* dl_run_close writes NaN/inf as null */
        else json_value_text(f, v);
        fputs("</td></tr>\n", f);
    }
    fputs("</tbody>\n</table>\n", f);
}

/* One row per resolved knob, nested objects flattened to dotted keys. */
static void config_rows(FILE *f, const cJSON *o, const char *prefix) {
    const cJSON *v;
    cJSON_ArrayForEach(v, o) {
        char key[512];
        snprintf(key, sizeof key, "%s%s%s", prefix, *prefix ? "." : "", v->string ? v->string : "");
        if (cJSON_IsObject(v) && v->child) {
            config_rows(f, v, key);
            continue;
        }
        fputs("<tr><td><code>", f);
        html_text(f, key);
        fputs("</code></td><td>", f);
        json_value_text(f, v);
        fputs("</td></tr>\n", f);
    }
}

static void config_table(FILE *f, const rep_run *r) {
    if (!cJSON_IsObject(r->config)) {
        fputs("<p class=\"none\">No readable config.json in this run.</p>\n", f);
        return;
    }
    fputs("<table class=\"config\">\n<thead><tr><th>Knob</th><th>Value</th></tr></thead>\n<tbody>\n", f);
    config_rows(f, r->config, "");
    fputs("</tbody>\n</table>\n", f);
}

static void raw_links(FILE *f, const rep_run *r, const char *out_dir) {
    const char *raw[] = {"metrics.jsonl", "config.json", "log.txt", "summary.json"};
    const char *what[] = {"one JSON object per logged step", "the fully resolved configuration",
                          "the run's log", "final values, claims, figures"};
    fputs("<ul>\n", f);
    for (int i = 0; i < 4; i++) {
        char rel[300], path[1600];
        snprintf(rel, sizeof rel, "assets/%s/%s", r->slug, raw[i]);
        snprintf(path, sizeof path, "%s/%s", out_dir, rel);
        if (!rep_is_file(path)) continue;
        fputs("<li><a href=\"", f);
        html_url(f, rel);
        fprintf(f, "\">%s</a> <span class=\"muted\">%s</span></li>\n", raw[i], what[i]);
    }
    fputs("</ul>\n", f);
}

static int write_run_page(const rep_run *runs, int k, const char *out_dir, char *err, size_t errlen) {
    const rep_run *r = &runs[k], *ctrl = !r->is_control && r->pair >= 0 ? &runs[r->pair] : NULL;
    char path[1400];
    snprintf(path, sizeof path, "%s/%s.html", out_dir, r->slug);
    FILE *f = fopen(path, "w");
    if (!f) {
        snprintf(err, errlen, "cannot write %s", path);
        return -1;
    }
    const cJSON *s = r->summary;
    const char *exp = jstr(s, "experiment"), *title = jstr(s, "title");
    char head[600];
    snprintf(head, sizeof head, "%s%s%s · dynlab", exp ? exp : r->slug, title ? " — " : "", title ? title : "");
    page_head(f, head);
    fputs("<p><a href=\"index.html\">← all systems</a> · <a href=\"#claims\">claims</a> · <a href=\"#figures\">"
          "figures</a> · <a href=\"#final\">final values</a> · <a href=\"#config\">configuration</a> · <a "
          "href=\"#raw\">raw files</a></p>\n<h1>",
          f);
    html_text(f, exp ? exp : r->slug);
    fputs("</h1>\n", f);
    if (title) {
        fputs("<p class=\"lead\"><strong>", f);
        html_text(f, title);
        fputs("</strong> ", f);
        arxiv_link(f, jstr(s, "arxiv"));
        fputs("</p>\n", f);
    }
    double wall = 0, threads = 0;
    const char *seed = jstr(s, "seed"); /* exact digits (rep_exact_seed) */
    fputs("<p class=\"muted\">", f);
    const char *preset = jstr(s, "preset");
    if (preset) {
        fputs("preset <code>", f);
        html_text(f, preset);
        fputs("</code> · ", f);
    }
    if (seed) fprintf(f, "seed %s · ", seed);
    if (jnum(s, "threads", &threads) && threads > 0) fprintf(f, "%.0f thread(s) · ", threads);
    if (jnum(s, "wall_seconds", &wall)) fprintf(f, "%.1f s wall · ", wall);
    claims_badge(f, r);
    if (ctrl) {
        fputs(" · untrained control: ", f);
        control_badge(f, ctrl);
    }
    fputs("</p>\n", f);
    if (r->is_control) {
        fputs("<p class=\"lead\"><strong>Untrained control</strong>: this run has learning disabled (learning rates "
              "zero or training skipped), everything else as in the trained run; every <em>learned</em> claim should "
              "FAIL here. ",
              f);
        control_badge(f, r);
        if (r->pair >= 0) {
            fputs(" · <a href=\"", f);
            html_url(f, runs[r->pair].slug);
            fputs(".html\">the trained run</a>", f);
        }
        fputs("</p>\n", f);
    }
    /* The exact command behind this page (config.json is the resolved config). */
    if (exp) {
        fputs("<p class=\"muted\">Reproduce: <code>dynlab run ", f);
        html_text(f, exp);
        fputs(" --config config.json", f);
        if (seed) fprintf(f, " --seed %s", seed);
        if (jnum(s, "threads", &threads) && threads > 0) fprintf(f, " --threads %.0f", threads);
        if (r->is_control) fputs(" --control untrained", f);
        char rel[200], cpath[1700];
        snprintf(rel, sizeof rel, "assets/%s/config.json", r->slug);
        snprintf(cpath, sizeof cpath, "%s/%s", out_dir, rel);
        if (rep_is_file(cpath)) { /* link only what was copied */
            fputs("</code> with this run's <a href=\"", f);
            html_url(f, rel);
            fputs("\">config.json</a></p>\n", f);
        } else {
            fputs("</code> (this run has no config.json)</p>\n", f);
        }
    }

    fputs("<h2 id=\"paper\">What the paper claims</h2>\n<p class=\"lead\">", f);
    const char *summary = jstr(s, "summary");
    if (summary && *summary) html_text(f, summary);
    else fputs("<span class=\"none\">No summary recorded.</span>", f);
    fputs("</p>\n<h2 id=\"claims\">Claims checked on this run</h2>\n", f);
    claims_table(f, r, ctrl);
    fputs("<h2 id=\"figures\">Figures</h2>\n", f);
    figures(f, r, out_dir);
    fputs("<h2 id=\"final\">Final values</h2>\n", f);
    final_table(f, r);
    fputs("<h2 id=\"config\">Configuration</h2>\n", f);
    config_table(f, r);
    fputs("<h2 id=\"raw\">Raw files</h2>\n", f);
    raw_links(f, r, out_dir);
    page_tail(f);
    if (fclose(f) != 0) {
        snprintf(err, errlen, "write error on %s", path);
        return -1;
    }
    return 0;
}

static int write_index(const rep_run *runs, int n, const char *out_dir, char *err, size_t errlen) {
    char path[1400];
    snprintf(path, sizeof path, "%s/index.html", out_dir);
    FILE *f = fopen(path, "w");
    if (!f) {
        snprintf(err, errlen, "cannot write %s", path);
        return -1;
    }
    /* Totals over the trained runs; a control run paired with a trained run
     * is shown in that run's row, not as a system of its own. */
    int passed = 0, total = 0, all_ok = 0, shown = 0, controls = 0, learned = 0, learned_pass = 0;
    for (int k = 0; k < n; k++) {
        if (runs[k].is_control) {
            controls++;
            learned += runs[k].learned;
            learned_pass += runs[k].learned_pass;
            if (runs[k].pair < 0) shown++;
            continue;
        }
        shown++;
        passed += runs[k].passed;
        total += runs[k].total;
        all_ok += runs[k].passed == runs[k].total;
    }
    int trained = n - controls;
    page_head(f, "dynlab report");
    fputs("<h1>dynlab report</h1>\n", f);
    fprintf(f,
            "<p class=\"lead\">%d run%s · <span class=\"badge %s\">%d of %d claims pass</span> · %d of %d "
            "system%s with every claim passing",
            trained, trained == 1 ? "" : "s", passed == total ? "pass" : "fail", passed, total, all_ok, trained,
            trained == 1 ? "" : "s");
    if (controls)
        fprintf(f,
                " · %d untrained control%s: <span class=\"badge %s\">%d of %d learned claims fail untrained</span>",
                controls, controls == 1 ? "" : "s", learned_pass == 0 ? "pass" : "fail", learned - learned_pass,
                learned);
    fputs("</p>\n", f);
    fputs("<table class=\"systems\" id=\"systems-table\">\n<thead><tr><th>System</th><th>Paper</th><th>Claims</th>",
          f);
    if (controls) fputs("<th>Untrained control</th>", f);
    fputs("<th>Wall time</th><th>Figure</th></tr></thead>\n<tbody>\n", f);
    (void)shown;
    for (int k = 0; k < n; k++) {
        const rep_run *r = &runs[k];
        if (r->is_control && r->pair >= 0) continue;
        const cJSON *s = r->summary;
        const char *exp = jstr(s, "experiment"), *title = jstr(s, "title"), *preset = jstr(s, "preset");
        double wall;
        const char *seed = jstr(s, "seed");
        fputs("<tr class=\"system\"><td class=\"nowrap\"><a href=\"", f);
        html_url(f, r->slug);
        fputs(".html\"><strong>", f);
        html_text(f, exp ? exp : r->slug);
        fputs("</strong></a><br><span class=\"muted\">", f);
        if (r->is_control) fputs("untrained control, ", f);
        if (preset) html_text(f, preset);
        if (seed) fprintf(f, "%sseed %s", preset ? ", " : "", seed);
        fputs("</span></td><td>", f);
        html_text(f, title ? title : "");
        if (jstr(s, "arxiv") && *jstr(s, "arxiv")) {
            fputs("<br><span class=\"muted\">", f);
            arxiv_link(f, jstr(s, "arxiv"));
            fputs("</span>", f);
        }
        fputs("</td><td>", f);
        claims_badge(f, r);
        if (r->passed < r->total) { /* which claims failed, at a glance */
            fputs("<br><span class=\"muted\">failed:", f);
            const cJSON *c;
            cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(s, "claims")) {
                if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "pass"))) continue;
                fputc(' ', f);
                html_text(f, jstr(c, "id"));
            }
            fputs("</span>", f);
        }
        if (controls) {
            const rep_run *ctrl = r->is_control ? r : r->pair >= 0 ? &runs[r->pair] : NULL;
            fputs("</td><td>", f);
            if (ctrl) {
                fputs("<a href=\"", f);
                html_url(f, ctrl->slug);
                fputs(".html\">", f);
                control_badge(f, ctrl);
                fputs("</a>", f);
            } else {
                fputs("<span class=\"none\">not run</span>", f);
            }
        }
        fputs("</td><td class=\"num\">", f);
        if (jnum(s, "wall_seconds", &wall)) fprintf(f, "%.1f s", wall);
        fputs("</td><td>", f);
        if (r->thumb[0]) {
            fputs("<a href=\"", f);
            html_url(f, r->slug);
            fputs(".html#figures\"><img class=\"thumb\" src=\"", f);
            html_url(f, r->thumb);
            fputs("\" alt=\"first figure of ", f);
            html_text(f, exp ? exp : r->slug);
            fputs("\"></a>", f);
        } else {
            fputs("<span class=\"none\">no figure</span>", f);
        }
        fputs("</td></tr>\n", f);
    }
    fputs("</tbody>\n</table>\n", f);
    page_tail(f);
    if (fclose(f) != 0) {
        snprintf(err, errlen, "write error on %s", path);
        return -1;
    }
    return 0;
}

int dl_report_write(const char *const *run_dirs, int n, const char *out_dir, char *err, size_t errlen) {
    char scratch[8];
    if (!err || errlen == 0) err = scratch, errlen = sizeof scratch;
    err[0] = 0;
    if (!run_dirs || n <= 0) {
        snprintf(err, errlen, "no run directories given");
        return -1;
    }
    if (!out_dir || !*out_dir) {
        snprintf(err, errlen, "no output directory given");
        return -1;
    }
    rep_run *runs = calloc((size_t)n, sizeof *runs);
    if (!runs) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int rc = 0;
    for (int k = 0; k < n && rc == 0; k++) {
        if (!run_dirs[k] || !*run_dirs[k]) {
            snprintf(err, errlen, "empty run directory name");
            rc = -1;
        } else if (load_run(&runs[k], run_dirs[k], err, errlen) != 0) {
            rc = -1;
        } else {
            make_slug(runs, k);
        }
    }
    if (rc == 0) pair_controls(runs, n);
    if (rc == 0 && rep_mkdir_p(out_dir) != 0) {
        snprintf(err, errlen, "cannot create output directory '%s'", out_dir);
        rc = -1;
    }
    for (int k = 0; k < n && rc == 0; k++) {
        rc = copy_assets(&runs[k], out_dir, err, errlen);
        if (rc == 0) rc = write_run_page(runs, k, out_dir, err, errlen);
    }
    if (rc == 0) rc = write_index(runs, n, out_dir, err, errlen);
    for (int k = 0; k < n; k++) {
        cJSON_Delete(runs[k].summary);
        cJSON_Delete(runs[k].config);
    }
    free(runs);
    return rc;
}
