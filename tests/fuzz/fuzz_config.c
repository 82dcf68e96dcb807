/* libFuzzer harness: JSON configs and --set overrides (src/io/config.c).
 * An input starting with '{' is a config file; otherwise each line is one
 * --set KEY=VALUE. Invariants: no crash or undefined behaviour; a refused
 * input gives a one-line error; an accepted config's JSON (config.json) is
 * accepted again and reproduces the same values (round trip). */
#include "fuzz_util.h"
#include "dynlab/config.h"

typedef struct {
    int steps, flag;
    double lr;
    char name[DL_STR_MAX], mode[DL_STR_MAX];
    dl_dlist eps;
    int depth;
} cfg_t;

static const dl_field fields[] = {
    DL_FIELD_INT(cfg_t, steps, "train.steps", 10, 1, 1e7, "steps"),
    DL_FIELD_BOOL(cfg_t, flag, "train.flag", 0, "flag"),
    DL_FIELD_DOUBLE(cfg_t, lr, "train.lr", 0.1, 0, 10, "rate"),
    DL_FIELD_STRING(cfg_t, name, "data.path", "x", "path"),
    DL_FIELD_ENUM(cfg_t, mode, "model.mode", "a", "a|bb|ccc", "mode"),
    DL_FIELD_LIST(cfg_t, eps, "claims.eps", "0.1,0.2", -1e9, 1e9, "list"),
    DL_FIELD_INT(cfg_t, depth, "model.deep.er.depth", 2, -5, 5, "nested"),
};
static const dl_config_schema schema = {fields, sizeof fields / sizeof fields[0], sizeof(cfg_t)};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 1 << 16) return 0;
    char *text = fuzz_text(data, size);
    char err[512] = "";
    cfg_t c, back;
    dl_config_defaults(&schema, &c);
    int ok = 1;
    if (size && text[0] == '{') {
        ok = dl_config_apply_json(&schema, &c, text, err, sizeof err) == 0;
    } else {
        for (char *line = text, *nl; ok && line; line = nl) {
            nl = strchr(line, '\n');
            if (nl) *nl++ = 0;
            if (*line) ok = dl_config_apply_set(&schema, &c, line, err, sizeof err) == 0;
        }
    }
    if (!ok) fuzz_check_err(err);
    char *json = dl_config_to_json(&schema, &c);
    dl_config_defaults(&schema, &back);
    if (!json || dl_config_apply_json(&schema, &back, json, err, sizeof err) != 0) {
        fprintf(stderr, "config.json of an accepted config is refused: %s\n%s\n", err, json);
        abort();
    }
    if (back.steps != c.steps || back.flag != c.flag || back.depth != c.depth ||
        strcmp(back.name, c.name) || strcmp(back.mode, c.mode) || back.eps.n != c.eps.n) {
        fprintf(stderr, "config.json does not round-trip:\n%s\n", json);
        abort();
    }
    free(json);
    free(text);
    return 0;
}
