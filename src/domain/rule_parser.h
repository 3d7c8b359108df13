/*
 * rule_parser.h — a scene rule text (.nfo / .txt, as uploaded or typed) → the structured
 * constraints the packer can use (the `spec` of GET /api/rules/{id}/spec).
 *
 * Scene rules are prose written for people, not a format: the parser looks for the
 * constraints the eBOOK rules state and reports only what it finds, each key absent when the
 * text says nothing about it. It works on paragraphs (blank lines and numbered items split
 * them) and anchors each constraint on its subject: "NFO ... 80 columns" gives nfo_max_width,
 * "FILE_ID.DIZ ... 44 columns by 30 lines" diz_max_width and diz_max_lines, "directory name ...
 * 243 characters" name_max_length, a paragraph about volume / ZIP sizes gives zip_sizes (numbers
 * in bytes, or in millions / MB), and so on. Keys, as in the built-in rule's spec:
 *   section, scene, year, formats[], format_tags{}, drm_allowed, zip_sizes[], max_files_per_zip,
 *   zip_names_8_3, payload_name_max, name_max_length, name_allowed_chars, sources[],
 *   extra_tags[], type_tags{}, nfo_max_width, nfo_encoding, nfo_line_end, diz_max_width,
 *   diz_max_lines, sfv_required, mandatory_fields[], retail_requires_url.
 * Input of any kind is safe: invalid UTF-8 and control bytes are ignored, the text is capped.
 */
#ifndef SP_DOMAIN_RULE_PARSER_H
#define SP_DOMAIN_RULE_PARSER_H

#include <jansson.h>
#include <stddef.h>

/* Bytes of rule text examined (the rest is ignored). */
#define SP_RULE_TEXT_MAX (1024 * 1024)

/* The constraints found in text[0..len) as a new JSON object ({} when none). */
json_t *sp_rule_parse(const char *text, size_t len);
/* The same as compact JSON text (heap; caller frees with sp_free). */
char *sp_rule_spec_text(const char *text);

#endif
