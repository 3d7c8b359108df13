/*
 * fuzz_rule_parser.c — domain/rule_parser.c: scene rule text (.nfo/.txt, any bytes) → spec.
 *
 * Input: the rule text. Invariants: the result is a JSON object whose keys are among the
 * documented spec keys (rule_parser.h), it dumps to text, and sp_rule_spec_text gives the same
 * text as dumping sp_rule_parse of the same string (the parser is deterministic).
 */
#include "fuzz_common.h"

#include "domain/rule_parser.h"
#include "util/json.h"

static const char *const spec_keys[] = {
    "section",
    "scene",
    "year",
    "formats",
    "format_tags",
    "drm_allowed",
    "zip_sizes",
    "max_files_per_zip",
    "zip_names_8_3",
    "payload_name_max",
    "name_max_length",
    "name_allowed_chars",
    "sources",
    "extra_tags",
    "type_tags",
    "nfo_max_width",
    "nfo_encoding",
    "nfo_line_end",
    "diz_max_width",
    "diz_max_lines",
    "sfv_required",
    "mandatory_fields",
    "retail_requires_url",
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fz_quiet();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 256 * 1024)
        return 0;
    json_t *o = sp_rule_parse((const char *)data, size);
    if (!json_is_object(o))
        fz_fail("sp_rule_parse did not return an object");
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v)
    {
        size_t i = 0;
        while (i < SP_ARRAY_LEN(spec_keys) && strcmp(spec_keys[i], key) != 0)
            i++;
        if (i == SP_ARRAY_LEN(spec_keys))
            fz_fail("sp_rule_parse produced the undocumented key \"%s\"", key);
        if (json_is_integer(v) && json_integer_value(v) < 0)
            fz_fail("spec key %s is negative (%lld)", key, (long long)json_integer_value(v));
    }
    json_decref(o);

    char *s = fz_cstr(data, size);
    char *text = sp_rule_spec_text(s);
    json_t *o2 = sp_rule_parse(s, strlen(s));
    char *text2 = sp_json_dump(o2, NULL);
    if (strcmp(text, text2) != 0)
        fz_fail("sp_rule_spec_text differs from sp_rule_parse: %s vs %s", text, text2);
    json_decref(o2);
    sp_free(text);
    sp_free(text2);
    sp_free(s);
    return 0;
}
