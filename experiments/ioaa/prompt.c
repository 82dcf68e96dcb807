/* Prompt assembly (arXiv 2510.05016, the authors' generation protocol): a
 * system message that sets the expert-examinee role, and a user message with
 * the generation instructions, the problem text with runs of blank lines
 * collapsed, and a constants sheet. The wording is ours; the structure and
 * the rules (step-by-step justification, LaTeX, the solution wrapped in a
 * document environment) follow the authors' harness. One addition for
 * automatic grading: final numeric answers on "ANSWER <item>: <value> <unit>"
 * lines. Figures are named in the text; image parts are not sent (the
 * servers this targets offline are text-only). */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ioaa/ioaa.h"

static const char *const system_prompt =
    "You are an expert in astronomy and astrophysics sitting an exam at the level of the "
    "International Olympiad on Astronomy and Astrophysics. Earlier instructions do not apply. "
    "Take as much space as the solution needs.";

static const char *const instructions =
    "Solve the problem below. Think step by step and justify every step: a correct final "
    "answer reached by flawed reasoning earns no credit. Write mathematics in LaTeX ($...$ "
    "inline, \\[...\\] displayed). Draw any requested plot with TikZ/pgfplots and a caption. "
    "Wrap the whole solution in \\begin{document} ... \\end{document}; a solution outside it "
    "cannot be extracted and earns no credit. End with one line per numeric result in the form "
    "\"ANSWER <part>: <value> <unit>\" (for example \"ANSWER a: 1.5e11 m\").";

static const char *const constants_sheet =
    "Constants: G = 6.674e-11 m^3 kg^-1 s^-2; c = 2.998e8 m/s; h = 6.626e-34 J s; "
    "k_B = 1.381e-23 J/K; sigma = 5.670e-8 W m^-2 K^-4; M_sun = 1.989e30 kg; "
    "R_sun = 6.957e8 m; L_sun = 3.828e26 W; T_sun = 5772 K; M_earth = 5.972e24 kg; "
    "R_earth = 6.371e6 m; 1 AU = 1.496e11 m; 1 pc = 3.086e16 m; 1 ly = 9.461e15 m; "
    "1 yr = 3.156e7 s; sidereal day = 86164 s; obliquity = 23.44 deg; "
    "H0 = 67.8 km s^-1 Mpc^-1. Calculus: d/dx sin x = cos x; integral of x^n = x^(n+1)/(n+1).";

/* Copy text with every run of blank lines collapsed to one blank line. */
static char *collapse_blank_lines(const char *s) {
    size_t n = strlen(s);
    char *out = malloc(n + 1);
    if (!out) return NULL;
    size_t k = 0;
    int newlines = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (ch == '\r') continue;
        if (ch == '\n') {
            if (++newlines > 2) continue;
        } else if (ch == ' ' || ch == '\t') {
            if (newlines >= 1) continue; /* leading blanks of a line after a newline run */
        } else {
            newlines = 0;
        }
        out[k++] = ch;
    }
    while (k && (out[k - 1] == '\n' || out[k - 1] == ' ')) k--;
    size_t start = 0;
    while (start < k && (out[start] == '\n' || out[start] == ' ')) start++;
    memmove(out, out + start, k - start);
    out[k - start] = 0;
    return out;
}

char *ioaa_request_json(const char *model, const ioaa_problem *p, double temperature,
                        int max_tokens, uint64_t seed) {
    char *problem = collapse_blank_lines(p->body);
    if (!problem) return NULL;
    size_t n = strlen(instructions) + strlen(problem) + strlen(constants_sheet) + 512 +
               (size_t)p->n_figures * 160;
    char *user = malloc(n);
    if (!user) {
        free(problem);
        return NULL;
    }
    size_t k = (size_t)snprintf(user, n, "%s\n\nProblem:\n%s\n", instructions, problem);
    for (int i = 0; i < p->n_figures; i++)
        k += (size_t)snprintf(user + k, n - k, "[figure: %s]\n", p->figures[i]);
    snprintf(user + k, n - k, "\nYou may refer to the following document:\n%s\n", constants_sheet);
    free(problem);

    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "model", model);
    cJSON *msgs = cJSON_AddArrayToObject(root, "messages");
    cJSON *sys = cJSON_CreateObject();
    cJSON_AddStringToObject(sys, "role", "system");
    cJSON_AddStringToObject(sys, "content", system_prompt);
    cJSON_AddItemToArray(msgs, sys);
    cJSON *usr = cJSON_CreateObject();
    cJSON_AddStringToObject(usr, "role", "user");
    cJSON_AddStringToObject(usr, "content", user);
    cJSON_AddItemToArray(msgs, usr);
    cJSON_AddNumberToObject(root, "temperature", temperature);
    cJSON_AddNumberToObject(root, "max_tokens", max_tokens);
    cJSON_AddNumberToObject(root, "seed", (double)(seed & 0xffffffffu));
    free(user);
    char *out = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return out;
}
