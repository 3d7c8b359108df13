/*
 * seed.c — realistic load-test data (see seed.h).
 *
 * Each release i gets a unique title built from three word lists of 128 entries in mixed radix
 * over a permutation of i (an odd multiplier modulo 2^21), so 2,097,152 distinct titles exist
 * before a ".Part.N" suffix is needed; numbering continues after the highest release id, so
 * repeated runs never collide. Everything is deterministic for a given rng_seed.
 *
 * Speed: one cached INSERT per row inside large transactions. For large N the bulk path drops
 * the triggers and secondary indexes of releases/jobs, loads, then recreates the indexes (a
 * sort per index beats a million random B-tree inserts), fills the search table with one
 * INSERT ... SELECT, adds the counter deltas counted while loading, and restores the triggers
 * with their exact stored SQL, all inside one transaction so a crash leaves nothing half-done.
 */
#include "store/seed.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "store/db.h"
#include "store/users.h"
#include "util/alloc.h"
#include "util/log.h"
#include "util/time.h"

#define BATCH 20000     /* releases per transaction on the trigger path */
#define PROGRESS_EVERY 5000
#define TITLE_SPACE (128 * 128 * 128)

/* ---- vocabulary (ours; plain ASCII so dirnames need no transliteration) ---- */

static const char *const adjectives[] = {
    "Silent", "Crimson", "Hidden", "Broken", "Golden", "Distant", "Frozen", "Burning", "Quiet",
    "Savage", "Gentle", "Hollow", "Ancient", "Endless", "Fallen", "Wild", "Bitter", "Bright",
    "Dark", "Electric", "Empty", "Final", "First", "Forgotten", "Glass", "Gray", "Green", "Grim",
    "Haunted", "Heavy", "Iron", "Last", "Lonely", "Lost", "Lucky", "Mad", "Midnight", "Modern",
    "Narrow", "New", "Northern", "Old", "Open", "Pale", "Perfect", "Quick", "Radiant", "Rapid",
    "Red", "Restless", "Rising", "Royal", "Rusty", "Sacred", "Scarlet", "Secret", "Shadowed",
    "Sharp", "Shining", "Small", "Southern", "Stolen", "Strange", "Sudden", "Sweet", "Tender",
    "Thin", "Tired", "True", "Twisted", "Velvet", "Violent", "Wandering", "Warm", "Western",
    "White", "Wicked", "Winter", "Wooden", "Young", "Amber", "Azure", "Bold", "Brave", "Calm",
    "Clever", "Cold", "Cosmic", "Cruel", "Curious", "Deep", "Divine", "Dusty", "Eastern",
    "Eternal", "Faint", "Fierce", "Fragile", "Gilded", "Grand", "Hungry", "Icy", "Invisible",
    "Jade", "Little", "Marble", "Mighty", "Misty", "Mortal", "Noble", "Obsidian", "Painted",
    "Patient", "Proud", "Purple", "Lunar", "Rare", "Reckless", "Salt", "Sapphire",
    "Shattered", "Sleeping", "Solar", "Starry", "Stone", "Summer", "Tall", "Uncharted",
};

static const char *const nouns[] = {
    "River", "Garden", "Empire", "Harbor", "Mirror", "Forest", "Kingdom", "Lantern", "Shadow",
    "Storm", "Tower", "Voyage", "Whisper", "Bridge", "Castle", "City", "Coast", "Crown", "Dawn",
    "Desert", "Door", "Dream", "Engine", "Field", "Fire", "Flame", "Flower", "Fortress",
    "Frontier", "Gate", "Ghost", "Girl", "Harvest", "Heart", "Hill", "House", "Hunter", "Island",
    "Journey", "Key", "Knight", "Lake", "Land", "Letter", "Light", "Machine", "Map", "Market",
    "Memory", "Moon", "Mountain", "Night", "Ocean", "Orchard", "Palace", "Path", "Promise",
    "Queen", "Rain", "Road", "Room", "Rose", "Sea", "Season", "Ship", "Signal", "Silence", "Sky",
    "Song", "Spell", "Star", "Station", "Stranger", "Street", "Sun", "Sword", "Temple", "Thief",
    "Throne", "Tide", "Time", "Trail", "Tree", "Valley", "Village", "Voice", "Wall", "War",
    "Water", "Wave", "Wind", "Window", "Wolf", "World", "Archive", "Atlas", "Beacon", "Canyon",
    "Cathedral", "Circle", "Clock", "Comet", "Compass", "Council", "Covenant", "Crossing",
    "Dragon", "Echo", "Estate", "Festival", "Glacier", "Horizon", "Inheritance", "Labyrinth",
    "Legacy", "Library", "Lighthouse", "Meadow", "Monastery", "Oracle", "Passage", "Prophecy",
    "Republic", "Sanctuary", "Serpent", "Summit", "Tapestry", "Theory",
};

static const char *const closers[] = {
    "Ashes", "Bones", "Dust", "Glass", "Gold", "Iron", "Salt", "Silver", "Smoke", "Snow",
    "Stone", "Thorns", "Tides", "Wolves", "Ravens", "Kings", "Ghosts", "Lies", "Secrets",
    "Shadows", "Stars", "Storms", "Dreams", "Echoes", "Embers", "Feathers", "Flames", "Leaves",
    "Mirrors", "Rivers", "Roses", "Ruins", "Sparrows", "Spirits", "Swords", "Thunder", "Winter",
    "Autumn", "Spring", "Summer", "Midnight", "Morning", "Evening", "Yesterday", "Tomorrow",
    "Paris", "London", "Venice", "Vienna", "Lisbon", "Prague", "Berlin", "Rome", "Oslo",
    "Dublin", "Madrid", "Athens", "Cairo", "Kyoto", "Boston", "Chicago", "Montreal", "Quebec",
    "Geneva", "Zurich", "Seville", "Naples", "Krakow", "Tangier", "Bombay", "Shanghai",
    "Istanbul", "Havana", "Lima", "Sydney", "Avalon", "Eden", "Babylon", "Troy", "Sparta",
    "Carthage", "Atlantis", "Arcadia", "Zion", "Memory", "Fortune", "Honor", "Mercy", "Glory",
    "Sorrow", "Wonder", "Silence", "Freedom", "Courage", "Chaos", "Order", "Reason", "Desire",
    "Fate", "Hope", "Grace", "Light", "Night", "Fire", "Water", "Earth", "Air", "Blood", "Steel",
    "Velvet", "Amber", "Ivory", "Ebony", "Copper", "Marble", "Crystal", "Cinders", "Coral",
    "Pearls", "Sand", "Frost", "Rain", "Clouds", "Orchids", "Lilies", "Maples", "Willows",
    "Lanterns",
};

_Static_assert(SP_ARRAY_LEN(adjectives) == 128 && SP_ARRAY_LEN(nouns) == 128 &&
                   SP_ARRAY_LEN(closers) == 128,
               "the title space assumes three lists of 128 words");

struct person {
    const char *display; /* as printed in metadata (may carry accents) */
    const char *ascii;   /* as it appears in a dirname */
};

static const struct person authors[] = {
    {"Ken Follett", "Ken.Follett"},         {"Émile Zola", "Emile.Zola"},
    {"Zoë Marchand", "Zoe.Marchand"},       {"José Saramago", "Jose.Saramago"},
    {"François Mauriac", "Francois.Mauriac"}, {"Björn Larsson", "Bjorn.Larsson"},
    {"Søren Holm", "Soren.Holm"},           {"Anna Müller", "Anna.Mueller"},
    {"Lucía García", "Lucia.Garcia"},       {"Antonín Dvořák", "Antonin.Dvorak"},
    {"Margaret Atwood", "Margaret.Atwood"}, {"Stephen King", "Stephen.King"},
    {"Ursula Le Guin", "Ursula.Le.Guin"},   {"Terry Pratchett", "Terry.Pratchett"},
    {"Agatha Christie", "Agatha.Christie"}, {"Haruki Murakami", "Haruki.Murakami"},
    {"Isabel Allende", "Isabel.Allende"},   {"Umberto Eco", "Umberto.Eco"},
    {"Jane Austen", "Jane.Austen"},         {"Charles Dickens", "Charles.Dickens"},
    {"Virginia Woolf", "Virginia.Woolf"},   {"Neil Gaiman", "Neil.Gaiman"},
    {"Ann Leckie", "Ann.Leckie"},           {"Liu Cixin", "Liu.Cixin"},
    {"Jo Nesbø", "Jo.Nesbo"},               {"Camilla Läckberg", "Camilla.Laeckberg"},
    {"Fred Vargas", "Fred.Vargas"},         {"Michel Houellebecq", "Michel.Houellebecq"},
    {"Elena Ferrante", "Elena.Ferrante"},   {"Daniel Kehlmann", "Daniel.Kehlmann"},
    {"Juli Zeh", "Juli.Zeh"},               {"Arturo Pérez-Reverte", "Arturo.Perez-Reverte"},
    {"Carlos Ruiz Zafón", "Carlos.Ruiz.Zafon"}, {"Andrzej Sapkowski", "Andrzej.Sapkowski"},
    {"Olga Tokarczuk", "Olga.Tokarczuk"},   {"Kazuo Ishiguro", "Kazuo.Ishiguro"},
    {"Colson Whitehead", "Colson.Whitehead"}, {"N. K. Jemisin", "N.K.Jemisin"},
    {"Brandon Sanderson", "Brandon.Sanderson"}, {"Robin Hobb", "Robin.Hobb"},
    {"Patrick Rothfuss", "Patrick.Rothfuss"}, {"Hilary Mantel", "Hilary.Mantel"},
    {"Sally Rooney", "Sally.Rooney"},       {"Tana French", "Tana.French"},
    {"Lee Child", "Lee.Child"},             {"Val McDermid", "Val.McDermid"},
    {"Ian Rankin", "Ian.Rankin"},           {"Henning Mankell", "Henning.Mankell"},
};

static const struct person publishers[] = {
    {"Penguin", "Penguin"},         {"HarperCollins", "HarperCollins"},
    {"Wiley", "Wiley"},             {"O'Reilly Media", "OReilly"},
    {"Springer", "Springer"},       {"Gallimard", "Gallimard"},
    {"Hachette", "Hachette"},       {"Suhrkamp", "Suhrkamp"},
    {"Kodansha", "Kodansha"},       {"Shueisha", "Shueisha"},
    {"Marvel", "Marvel"},           {"Dark Horse", "Dark.Horse"},
    {"Image Comics", "Image.Comics"}, {"Éditions Dupuis", "Editions.Dupuis"},
    {"Le Monde", "Le.Monde"},       {"The Guardian", "The.Guardian"},
    {"Die Zeit", "Die.Zeit"},       {"El País", "El.Pais"},
    {"No Starch Press", "No.Starch.Press"}, {"Packt", "Packt"},
    {"Manning", "Manning"},         {"Addison-Wesley", "Addison-Wesley"},
    {"MIT Press", "MIT.Press"},     {"Pragmatic Bookshelf", "Pragmatic.Bookshelf"},
    {"Bloomsbury", "Bloomsbury"},   {"Macmillan", "Macmillan"},
    {"Random House", "Random.House"}, {"Bonnier", "Bonnier"},
    {"Mondadori", "Mondadori"},     {"Planeta", "Planeta"},
    {"Future plc", "Future"},       {"Condé Nast", "Conde.Nast"},
};

struct lang {
    const char *name; /* metadata value */
    const char *tag;  /* dirname tag; NULL for English */
    int weight;
};

static const struct lang langs[] = {
    {"English", NULL, 55}, {"French", "FRENCH", 12},  {"German", "GERMAN", 12},
    {"Spanish", "SPANiSH", 6}, {"Italian", "iTALiAN", 5}, {"Dutch", "DUTCH", 4},
    {"Swedish", "SWEDiSH", 3}, {"Polish", "POLiSH", 3},
};

struct weighted {
    const char *name;
    int weight;
};

static const struct weighted statuses[] = {
    {"completed", 55}, {"draft", 15}, {"queued", 10}, {"processing", 5}, {"failed", 15},
};
#define NSTATUS ((int)SP_ARRAY_LEN(statuses))

static const struct weighted sources[] = {{"RETAiL", 70}, {"SCAN", 20}, {"HYBRiD", 10}};

enum kind { K_FICTION, K_TECHNICAL, K_MAGAZINE, K_COMIC, K_MANGA, K_NEWSPAPER, K_COUNT };
static const struct weighted kinds[K_COUNT] = {
    {"fiction", 45}, {"technical", 20}, {"magazine", 12},
    {"comic", 9},    {"manga", 8},      {"newspaper", 6},
};

static const char *const genres[K_COUNT][6] = {
    {"Thriller", "Fantasy", "Science Fiction", "Romance", "Crime", "Historical Fiction"},
    {"Programming", "Networking", "Mathematics", "Engineering", "Databases", "Security"},
    {"Computing", "Science", "Travel", "Cooking", "Photography", "Gaming"},
    {"Superhero", "Adventure", "Humor", "Horror", "Western", "Science Fiction"},
    {"Shonen", "Seinen", "Shojo", "Isekai", "Mecha", "Slice of Life"},
    {"News", "Politics", "Business", "Sport", "Culture", "World"},
};

static const char *const months[12] = {
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
};

/* Group names: 20 prefixes x 12 suffixes = 240 distinct, scene-like, [A-Za-z0-9]. */
static const char *const group_pre[20] = {
    "DiGi", "ePUB", "BooK", "PaGe", "iNK", "LiBRO", "ReaD", "NoVeL", "CoMiX", "MaNGa",
    "ZiNE", "TeXT", "PReSS", "SCRiBE", "QuiLL", "FoLiO", "VeRSo", "CHaPTeR", "ToMe", "ATLaS",
};
static const char *const group_suf[12] = {
    "WORM", "LiNE", "CLUB", "CREW", "HOUSE", "SQUAD", "DEN", "LAB", "GUiLD", "SHOP", "NEST",
    "FORCE",
};
#define MAX_GROUPS 240

/* ---- deterministic randomness (splitmix64) ---- */

struct rng {
    uint64_t s;
};

static uint64_t rnd(struct rng *r)
{
    uint64_t z = (r->s += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static int rnd_below(struct rng *r, int n)
{
    return (int)(rnd(r) % (uint64_t)n);
}

static int pick_weighted(struct rng *r, const struct weighted *w, int n)
{
    int total = 0;
    for (int i = 0; i < n; i++)
        total += w[i].weight;
    int x = rnd_below(r, total);
    for (int i = 0; i < n; i++) {
        if (x < w[i].weight)
            return i;
        x -= w[i].weight;
    }
    return n - 1;
}

static int pick_lang(struct rng *r)
{
    int total = 0, n = (int)SP_ARRAY_LEN(langs);
    for (int i = 0; i < n; i++)
        total += langs[i].weight;
    int x = rnd_below(r, total);
    for (int i = 0; i < n; i++) {
        if (x < langs[i].weight)
            return i;
        x -= langs[i].weight;
    }
    return 0;
}

/* A valid ISBN-13 (978 prefix) from random digits. out: 14 bytes. */
static void make_isbn(struct rng *r, char *out)
{
    memcpy(out, "978", 3);
    for (int i = 3; i < 12; i++)
        out[i] = (char)('0' + rnd_below(r, 10));
    int sum = 0;
    for (int i = 0; i < 12; i++)
        sum += (out[i] - '0') * (i % 2 ? 3 : 1);
    out[12] = (char)('0' + (10 - sum % 10) % 10);
    out[13] = '\0';
}

/* Civil date from days since 1970-01-01 (Howard Hinnant's algorithm). */
static void civil(int64_t days, int *y, int *m, int *d)
{
    days += 719468;
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    int64_t doe = days - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

/* ---- one release ---- */

struct gen {
    char name[244];
    char meta[1400];
    char config[96];
    int status;      /* index in statuses */
    int64_t size;
    int wizard_step;
    int group;       /* index into the group table */
    int64_t created_at, updated_at;
    /* the searchable fields, as the metadata holds them (bulk path fills the FTS row) */
    char title[128];
    const char *author; /* NULL when none */
    const char *publisher;
    char isbn[16];
};

/* Append a '.'-separated part to the name. */
static void add_part(char *buf, size_t cap, size_t *len, const char *part)
{
    if (!part || !*part || *len >= cap - 1)
        return;
    int n = snprintf(buf + *len, cap - *len, "%s%s", *len ? "." : "", part);
    if (n > 0)
        *len = *len + (size_t)n < cap ? *len + (size_t)n : cap - 1;
}

/* Title words as "Silent.River.of.Ashes" (dots) into `dotted` and "Silent River of Ashes"
 * into `spaced`. */
static void make_title(uint64_t serial, char *dotted, size_t dcap, char *spaced, size_t scap)
{
    uint64_t k = serial % TITLE_SPACE;
    uint64_t part = serial / TITLE_SPACE;
    uint64_t p = (k * UINT64_C(0x5851F42D) + UINT64_C(0x14057B7)) % TITLE_SPACE; /* odd mult */
    const char *a = adjectives[p % 128], *n = nouns[(p / 128) % 128],
               *c = closers[(p / 16384) % 128];
    if (part) {
        snprintf(dotted, dcap, "%s.%s.of.%s.Part.%llu", a, n, c, (unsigned long long)part + 1);
        snprintf(spaced, scap, "%s %s of %s, Part %llu", a, n, c, (unsigned long long)part + 1);
    } else {
        snprintf(dotted, dcap, "%s.%s.of.%s", a, n, c);
        snprintf(spaced, scap, "%s %s of %s", a, n, c);
    }
    for (char *s = spaced; *s; s++)
        if (*s == '.')
            *s = ' '; /* "Lunar" reads as two words */
}

/* Release `idx` of `count` in this run: created_at grows with idx (as ids do in real use),
 * spread from 2015-01-01 to now with a little jitter. */
static void generate(struct rng *r, uint64_t serial, int64_t idx, int64_t count, int ngroups,
                     const char *const *group_names, int64_t now, struct gen *g)
{
    char tdot[128], tsp[128];
    make_title(serial, tdot, sizeof tdot, tsp, sizeof tsp);
    int kind = pick_weighted(r, kinds, K_COUNT);
    int lang = pick_lang(r);
    int src = pick_weighted(r, sources, (int)SP_ARRAY_LEN(sources));
    g->status = pick_weighted(r, statuses, NSTATUS);
    g->group = rnd_below(r, ngroups);
    const struct person *au = &authors[rnd_below(r, (int)SP_ARRAY_LEN(authors))];
    const struct person *pu = &publishers[rnd_below(r, (int)SP_ARRAY_LEN(publishers))];

    /* created between 2015-01-01 and now in id order, published up to 3 years earlier */
    int64_t t0 = 1420070400;
    int64_t span = now > t0 ? now - t0 : 1;
    double pos =
        ((double)idx + (double)(rnd(r) % 1000) / 1000.0) / (double)(count > 0 ? count : 1);
    g->created_at = t0 + (int64_t)(pos * (double)span);
    if (g->created_at > now)
        g->created_at = now;
    g->updated_at = g->created_at + rnd_below(r, 86400 * 3);
    if (g->updated_at > now)
        g->updated_at = now;
    int ry, rm, rd;
    civil(g->created_at / 86400, &ry, &rm, &rd);
    int pub_year = ry - rnd_below(r, 4);
    int pm = 1 + rnd_below(r, 12), pd = 1 + rnd_below(r, 28);
    if (pub_year == ry && (pm > rm || (pm == rm && pd > rd))) {
        pm = rm; /* never published after the release date */
        pd = rd;
    }

    const char *format, *ftag;
    if (kind == K_COMIC || kind == K_MANGA) {
        format = "CBZ";
        ftag = "CBZ";
    } else {
        static const char *const fmts[][2] = {
            {"PDF", NULL}, {"EPUB", "ePUB"}, {"EPUB", "ePUB"}, {"AZW3", "KF8"}, {"MOBI", "MOBI"},
        };
        int f = kind == K_MAGAZINE || kind == K_NEWSPAPER || kind == K_TECHNICAL
                    ? (rnd_below(r, 3) ? 0 : 1)
                    : rnd_below(r, 5);
        format = fmts[f][0];
        ftag = fmts[f][1];
    }

    /* name parts by kind (PACKAGING.md §3) */
    char name[244];
    size_t len = 0;
    char num[48], vol[16] = "", issue[16] = "", edition[24] = "";
    const char *type_tag = NULL;
    switch (kind) {
    case K_FICTION:
        add_part(name, sizeof name, &len, au->ascii);
        add_part(name, sizeof name, &len, tdot);
        break;
    case K_TECHNICAL:
        add_part(name, sizeof name, &len, rnd_below(r, 2) ? pu->ascii : au->ascii);
        add_part(name, sizeof name, &len, tdot);
        if (rnd_below(r, 3) == 0) {
            int ed = 2 + rnd_below(r, 6);
            snprintf(edition, sizeof edition, "%d%s Edition", ed, ed == 2 ? "nd" : ed == 3 ? "rd" : "th");
            snprintf(num, sizeof num, "%d%s.Edition", ed, ed == 2 ? "nd" : ed == 3 ? "rd" : "th");
            add_part(name, sizeof name, &len, num);
        }
        break;
    case K_MAGAZINE:
        add_part(name, sizeof name, &len, tdot);
        add_part(name, sizeof name, &len, "Monthly");
        snprintf(issue, sizeof issue, "%02d", 1 + rnd_below(r, 12));
        snprintf(num, sizeof num, "NR%s", issue);
        add_part(name, sizeof name, &len, num);
        type_tag = "MAGAZiNE";
        break;
    case K_COMIC:
    case K_MANGA:
        add_part(name, sizeof name, &len, tdot);
        snprintf(vol, sizeof vol, "%d", 1 + rnd_below(r, 30));
        snprintf(num, sizeof num, "Vol.%s", vol);
        add_part(name, sizeof name, &len, num);
        if (kind == K_COMIC) {
            snprintf(issue, sizeof issue, "%d", 1 + rnd_below(r, 60));
            snprintf(num, sizeof num, "No.%s", issue);
            add_part(name, sizeof name, &len, num);
        }
        type_tag = kind == K_COMIC ? "COMiC" : "MANGA";
        break;
    case K_NEWSPAPER:
        add_part(name, sizeof name, &len, tdot);
        add_part(name, sizeof name, &len, "Daily");
        pub_year = ry; /* a newspaper comes out the day it is dated */
        pm = rm;
        pd = rd;
        snprintf(num, sizeof num, "%d.%s", pd, months[pm - 1]);
        add_part(name, sizeof name, &len, num);
        break;
    }
    snprintf(num, sizeof num, "%d", pub_year);
    add_part(name, sizeof name, &len, num);
    add_part(name, sizeof name, &len, langs[lang].tag);
    add_part(name, sizeof name, &len, sources[src].name);
    if (rnd_below(r, 40) == 0)
        add_part(name, sizeof name, &len, rnd_below(r, 2) ? "PROPER" : "REPACK");
    add_part(name, sizeof name, &len, type_tag);
    add_part(name, sizeof name, &len, ftag);
    int nn = snprintf(g->name, sizeof g->name, "%s.eBOOK-%s", name, group_names[g->group]);
    if (nn < 0 || (size_t)nn >= sizeof g->name)
        g->name[sizeof g->name - 1] = '\0'; /* cannot happen with our word lists (< 120) */

    char *isbn = g->isbn;
    make_isbn(r, isbn);
    /* magazines and newspapers have no author */
    bool has_author = kind != K_MAGAZINE && kind != K_NEWSPAPER;
    snprintf(g->title, sizeof g->title, "%s", tsp);
    g->author = has_author ? au->display : NULL;
    g->publisher = pu->display;
    int n = snprintf(
        g->meta, sizeof g->meta,
        "{\"title\":\"%s\"%s%s%s,\"publisher\":\"%s\",\"year\":%d,"
        "\"language\":\"%s\",\"source\":\"%s\",\"isbn\":\"%s\",\"genre\":\"%s\","
        "\"release_date\":\"%04d-%02d-%02d\",\"publish_date\":\"%04d-%02d-%02d\","
        "\"book_kind\":\"%s\",\"format\":\"%s\"",
        tsp, has_author ? ",\"author\":\"" : "", has_author ? au->display : "",
        has_author ? "\"" : "", pu->display, pub_year, langs[lang].name, sources[src].name, isbn,
        genres[kind][rnd_below(r, 6)], ry, rm, rd, pub_year, pm, pd, kinds[kind].name, format);
    size_t m = n > 0 ? (size_t)n : 0;
    if (src == 0 && m < sizeof g->meta)
        m += (size_t)snprintf(g->meta + m, sizeof g->meta - m,
                              ",\"url\":\"https://books.example.com/isbn/%s\"", isbn);
    if (vol[0] && m < sizeof g->meta)
        m += (size_t)snprintf(g->meta + m, sizeof g->meta - m, ",\"volume\":\"%s\"", vol);
    if (issue[0] && m < sizeof g->meta)
        m += (size_t)snprintf(g->meta + m, sizeof g->meta - m, ",\"issue\":\"%s\"", issue);
    if (edition[0] && m < sizeof g->meta)
        m += (size_t)snprintf(g->meta + m, sizeof g->meta - m, ",\"edition\":\"%s\"", edition);
    if (m < sizeof g->meta)
        snprintf(g->meta + m, sizeof g->meta - m, "}");

    /* sizes: magazines/comics are big scans, novels small */
    static const int64_t zips[] = {5000000, 10000000, 50000000, 100000000, 150000000,
                                   200000000, 250000000};
    int64_t base = kind == K_FICTION ? 300000 : kind == K_TECHNICAL ? 2000000 : 15000000;
    g->size = base + (int64_t)(rnd(r) % (uint64_t)(base * 8));
    int64_t zip = zips[SP_ARRAY_LEN(zips) - 1];
    for (size_t i = 0; i < SP_ARRAY_LEN(zips); i++) {
        if (zips[i] >= g->size) {
            zip = zips[i];
            break;
        }
    }
    snprintf(g->config, sizeof g->config, "{\"zip_size\":%lld,\"create_sfv\":true}",
             (long long)zip);
    g->wizard_step = g->status == 1 ? 3 + rnd_below(r, 6) : 9;
}

/* ---- database steps ---- */

static int ensure_user(struct sp_db *db, const struct sp_seed_opts *o, struct sp_seed_result *res,
                       struct sp_err *e)
{
    struct sp_user u;
    int rc = sp_store_user_get_by_name(db, o->username, &u);
    if (rc == SP_NOTFOUND) {
        static const char *const roles[] = {"operator", NULL};
        struct sp_user_new nu = {
            .username = o->username,
            .password_hash = o->password_hash,
            .note = "load-test account (scenepacker seed)",
            .active = true,
            .role_names = roles,
        };
        rc = sp_store_user_create(db, &nu, &res->user_id, e);
        res->user_created = rc == SP_OK;
        return rc;
    }
    if (rc != SP_OK)
        return rc;
    res->user_id = u.id;
    rc = sp_store_user_set_password(db, u.id, o->password_hash, false);
    if (rc == SP_OK)
        rc = sp_store_user_set_active(db, u.id, true);
    if (rc != SP_OK)
        return rc;
    struct sp_stmt *st = sp_db_prepare(db, "INSERT OR IGNORE INTO user_roles(user_id, role_id)"
                                           " SELECT ?, id FROM roles WHERE name = 'operator'");
    if (!st)
        return SP_ERR;
    sp_stmt_bind_int(st, 1, u.id);
    return sp_stmt_exec(st);
}

static int load_groups(struct sp_db *db, int n, char **names, int64_t *ids, int64_t now)
{
    for (int i = 0; i < n; i++) {
        /* i -> (prefix, suffix) is one-to-one over the 20x12 grid */
        int pre = i % 20, suf = i / 20;
        names[i] = sp_asprintf("%s%s", group_pre[pre], group_suf[suf]);
        struct sp_stmt *st =
            sp_db_prepare(db, "INSERT OR IGNORE INTO groups(name, created_at) VALUES (?, ?)");
        if (!st)
            return SP_ERR;
        sp_stmt_bind_text(st, 1, names[i]);
        sp_stmt_bind_int(st, 2, now);
        int rc = sp_stmt_exec(st);
        if (rc != SP_OK)
            return rc;
        st = sp_db_prepare(db, "SELECT id, name FROM groups WHERE name = ?");
        if (!st)
            return SP_ERR;
        sp_stmt_bind_text(st, 1, names[i]);
        rc = sp_stmt_step(st);
        if (rc == SP_ROW) {
            ids[i] = sp_stmt_column_int(st, 0);
            /* keep the stored spelling (names are case-insensitive) */
            sp_free(names[i]);
            names[i] = sp_strdup(sp_stmt_column_text(st, 1));
        }
        sp_stmt_reset(st);
        if (rc != SP_ROW)
            return rc == SP_DONE ? SP_ERR : rc;
    }
    return SP_OK;
}

struct saved_sql {
    char **sql;
    int n;
};

static void saved_free(struct saved_sql *s)
{
    for (int i = 0; i < s->n; i++)
        sp_free(s->sql[i]);
    sp_free(s->sql);
    s->sql = NULL;
    s->n = 0;
}

/* Collect (name, sql) of triggers or indexes on releases/jobs; drop each. */
static int save_and_drop(struct sp_db *db, const char *type, struct saved_sql *out,
                         struct sp_err *e)
{
    struct sp_stmt *st = sp_db_prepare(
        db, "SELECT name, sql FROM sqlite_master WHERE type = ? AND tbl_name IN ('releases', 'jobs')"
            " AND sql IS NOT NULL ORDER BY rowid");
    if (!st)
        return SP_ERR;
    sp_stmt_bind_text(st, 1, type);
    char **names = NULL;
    int n = 0, rc;
    while ((rc = sp_stmt_step(st)) == SP_ROW) {
        names = sp_reallocarray(names, (size_t)n + 1, sizeof *names);
        out->sql = sp_reallocarray(out->sql, (size_t)out->n + 1, sizeof *out->sql);
        names[n++] = sp_strdup(sp_stmt_column_text(st, 0));
        out->sql[out->n++] = sp_strdup(sp_stmt_column_text(st, 1));
    }
    sp_stmt_reset(st);
    if (rc == SP_DONE)
        rc = SP_OK;
    for (int i = 0; i < n && rc == SP_OK; i++) {
        /* identifiers come from sqlite_master (our own schema), quoted defensively */
        char *sql = sp_asprintf("DROP %s \"%s\"", type, names[i]);
        rc = sp_db_exec(db, sql, e);
        sp_free(sql);
    }
    for (int i = 0; i < n; i++)
        sp_free(names[i]);
    sp_free(names);
    return rc;
}

static int restore(struct sp_db *db, struct saved_sql *s, struct sp_err *e)
{
    for (int i = 0; i < s->n; i++) {
        int rc = sp_db_exec(db, s->sql[i], e);
        if (rc != SP_OK)
            return rc;
    }
    return SP_OK;
}

/* Counter deltas gathered while loading (bulk path). */
struct deltas {
    int64_t rel[NSTATUS];
    int64_t job_completed, job_failed;
};

static int apply_deltas(struct sp_db *db, int64_t user_id, const struct deltas *d)
{
    for (int s = 0; s < NSTATUS; s++) {
        if (!d->rel[s])
            continue;
        for (int who = 0; who < 2; who++) {
            struct sp_stmt *st = sp_db_prepare(
                db, "INSERT INTO release_counts(user_id, status, release_type, n)"
                    " VALUES (?, ?, 'EBOOK', ?) ON CONFLICT(user_id, status, release_type)"
                    " DO UPDATE SET n = n + excluded.n");
            if (!st)
                return SP_ERR;
            sp_stmt_bind_int(st, 1, who ? user_id : 0);
            sp_stmt_bind_text(st, 2, statuses[s].name);
            sp_stmt_bind_int(st, 3, d->rel[s]);
            int rc = sp_stmt_exec(st);
            if (rc != SP_OK)
                return rc;
        }
    }
    const struct {
        const char *status;
        int64_t n;
    } jobs[] = {{"completed", d->job_completed}, {"failed", d->job_failed}};
    for (size_t j = 0; j < SP_ARRAY_LEN(jobs); j++) {
        if (!jobs[j].n)
            continue;
        for (int who = 0; who < 2; who++) {
            struct sp_stmt *st =
                sp_db_prepare(db, "INSERT INTO job_counts(user_id, status, n) VALUES (?, ?, ?)"
                                  " ON CONFLICT(user_id, status) DO UPDATE SET n = n + excluded.n");
            if (!st)
                return SP_ERR;
            sp_stmt_bind_int(st, 1, who ? user_id : 0);
            sp_stmt_bind_text(st, 2, jobs[j].status);
            sp_stmt_bind_int(st, 3, jobs[j].n);
            int rc = sp_stmt_exec(st);
            if (rc != SP_OK)
                return rc;
        }
    }
    return SP_OK;
}

static int fill_fts(struct sp_db *db, int64_t after_id, struct sp_err *e)
{
    struct sp_stmt *st = sp_db_prepare(
        db, "INSERT INTO releases_fts(rowid, name, title, author, publisher, grp, isbn)"
            " SELECT r.id, r.name, json_extract(r.release_metadata, '$.title'),"
            " json_extract(r.release_metadata, '$.author'),"
            " json_extract(r.release_metadata, '$.publisher'),"
            " (SELECT name FROM groups WHERE id = r.group_id),"
            " json_extract(r.release_metadata, '$.isbn')"
            " FROM releases r WHERE r.id > ? ORDER BY r.id");
    if (!st)
        return SP_ERR;
    sp_stmt_bind_int(st, 1, after_id);
    int rc = sp_stmt_exec(st);
    if (rc != SP_OK)
        sp_err_set(e, "", "filling the search index failed: %s", sp_db_errmsg(db));
    return rc;
}

static const char *const job_errors[] = {
    "payload larger than the largest volume size",
    "NFO line 12 is 83 columns wide (max 80)",
    "source file carries DRM (META-INF/encryption.xml)",
    "metadata incomplete: release_date is missing",
    "duplicate dirname",
};

static int insert_job(struct sp_db *db, int64_t release_id, int64_t user_id, const struct gen *g,
                      bool failed, struct rng *r)
{
    struct sp_stmt *st = sp_db_prepare(
        db, "INSERT INTO jobs(release_id, user_id, job_type, status, progress, step, params,"
            " error, attempts, created_at, updated_at, started_at, finished_at)"
            " VALUES (?, ?, 'package', ?, ?, ?, '{}', ?, 1, ?, ?, ?, ?)");
    if (!st)
        return SP_ERR;
    int64_t start = g->created_at + 1 + rnd_below(r, 60);
    int64_t end = start + 2 + rnd_below(r, 120);
    sp_stmt_bind_int(st, 1, release_id);
    sp_stmt_bind_int(st, 2, user_id);
    sp_stmt_bind_text(st, 3, failed ? "failed" : "completed");
    sp_stmt_bind_int(st, 4, failed ? rnd_below(r, 90) : 100);
    sp_stmt_bind_text(st, 5, failed ? "packing" : "done");
    sp_stmt_bind_text(st, 6,
                      failed ? job_errors[rnd_below(r, (int)SP_ARRAY_LEN(job_errors))] : NULL);
    sp_stmt_bind_int(st, 7, g->created_at);
    sp_stmt_bind_int(st, 8, end);
    sp_stmt_bind_int(st, 9, start);
    sp_stmt_bind_int(st, 10, end);
    return sp_stmt_exec(st);
}

static int insert_release(struct sp_db *db, const struct gen *g, int64_t user_id,
                          int64_t group_id, int64_t rule_id)
{
    struct sp_stmt *st = sp_db_prepare(
        db, "INSERT INTO releases(name, user_id, group_id, release_type, status, release_metadata,"
            " config, file_path, file_size, rule_id, wizard_step, created_at, updated_at)"
            " VALUES (?, ?, ?, 'EBOOK', ?, ?, ?, NULL, ?, ?, ?, ?, ?)");
    if (!st)
        return SP_ERR;
    sp_stmt_bind_text(st, 1, g->name);
    sp_stmt_bind_int(st, 2, user_id);
    sp_stmt_bind_int(st, 3, group_id);
    sp_stmt_bind_text(st, 4, statuses[g->status].name);
    sp_stmt_bind_text(st, 5, g->meta);
    sp_stmt_bind_text(st, 6, g->config);
    sp_stmt_bind_int(st, 7, g->status == 1 ? 0 : g->size);
    if (rule_id)
        sp_stmt_bind_int(st, 8, rule_id);
    else
        sp_stmt_bind_null(st, 8);
    sp_stmt_bind_int(st, 9, g->wizard_step);
    sp_stmt_bind_int(st, 10, g->created_at);
    sp_stmt_bind_int(st, 11, g->updated_at);
    return sp_stmt_exec(st);
}

/* Log how long the phase that just ended took (debug level). */
static void phase(const char *what, int64_t *t)
{
    int64_t now = sp_time_mono_ns();
    sp_debug("seed phase", "%s in %.2f s", what, (double)(now - *t) / 1e9);
    *t = now;
}

static int64_t scalar(struct sp_db *db, const char *sql)
{
    struct sp_stmt *st = sp_db_prepare(db, sql);
    if (!st)
        return -1;
    int rc = sp_stmt_step(st);
    int64_t v = rc == SP_ROW ? sp_stmt_column_int(st, 0) : -1;
    sp_stmt_reset(st);
    return v;
}

int sp_store_seed(struct sp_db *db, const struct sp_seed_opts *o, struct sp_seed_result *res,
                  struct sp_err *e)
{
    memset(res, 0, sizeof *res);
    if (!db) {
        sp_err_set(e, "", "no database connection");
        return SP_ERR;
    }
    if (!o->username || !*o->username) {
        sp_err_set(e, "user", "a username is required");
        return SP_INVALID;
    }
    if (!o->password_hash || !*o->password_hash) {
        sp_err_set(e, "user", "a password is required");
        return SP_INVALID;
    }
    if (o->releases < 0 || o->releases > 100000000) {
        sp_err_set(e, "releases", "releases must be between 0 and 100000000");
        return SP_INVALID;
    }
    int ngroups = o->groups > 0 ? o->groups : 200;
    if (ngroups > MAX_GROUPS) {
        sp_err_set(e, "groups", "at most %d groups", MAX_GROUPS);
        return SP_INVALID;
    }
    int64_t t_start = sp_time_mono_ns();
    int64_t now = sp_time_now();
    bool bulk = o->bulk > 0 || (o->bulk < 0 && o->releases >= SP_SEED_BULK_THRESHOLD);
    char *group_names[MAX_GROUPS] = {0};
    int64_t group_ids[MAX_GROUPS] = {0};
    struct saved_sql triggers = {0}, indexes = {0};
    struct deltas d;
    memset(&d, 0, sizeof d);
    struct rng r = {o->rng_seed ? o->rng_seed : UINT64_C(0x5EEDC0DE)};
    bool in_tx = false;
    int rc;

    /* account and groups first, committed on their own */
    rc = sp_db_begin(db);
    if (rc != SP_OK)
        goto out;
    in_tx = true;
    rc = ensure_user(db, o, res, e);
    if (rc == SP_OK)
        rc = load_groups(db, ngroups, group_names, group_ids, now);
    if (rc != SP_OK)
        goto out;
    rc = sp_db_commit(db);
    in_tx = false;
    if (rc != SP_OK)
        goto out;
    res->groups = ngroups;
    if (o->releases == 0)
        goto out;

    int64_t rule_id = scalar(db, "SELECT COALESCE(MIN(id), 0) FROM rules WHERE builtin = 1");
    int64_t base_id = scalar(db, "SELECT COALESCE(MAX(id), 0) FROM releases");
    if (rule_id < 0 || base_id < 0) {
        rc = SP_ERR;
        goto out;
    }
    int64_t existing = scalar(db, "SELECT COUNT(*) FROM releases");
    /* rebuilding indexes costs in proportion to the whole table: worth it for a large load
     * that is not small beside what is already there */
    if (o->bulk < 0)
        bulk = o->releases >= SP_SEED_BULK_THRESHOLD && o->releases * 2 >= existing;
    /* big transactions: keep the pages they touch in memory rather than spilling them to the
     * WAL early (~1.6 KiB per release with its job, indexes and search row; at most 2 GiB) */
    int64_t cache_kib = 65536 + (existing + o->releases) * 16 / 10;
    if (cache_kib > 2 * 1024 * 1024)
        cache_kib = 2 * 1024 * 1024;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    char pragma[96];
    snprintf(pragma, sizeof pragma, "PRAGMA cache_size=-%lld; PRAGMA threads=%ld",
             (long long)cache_kib, cpus > 0 ? cpus : 1);
    sp_db_exec(db, pragma, NULL);

    int64_t t_phase = sp_time_mono_ns();
    rc = sp_db_begin(db);
    if (rc != SP_OK)
        goto out;
    in_tx = true;
    res->bulk = bulk;
    if (bulk) {
        rc = save_and_drop(db, "trigger", &triggers, e);
        if (rc == SP_OK)
            rc = save_and_drop(db, "index", &indexes, e);
        if (rc != SP_OK)
            goto out;
    }
    for (int64_t i = 0; i < o->releases; i++) {
        struct gen g;
        uint64_t serial = (uint64_t)(base_id + i);
        generate(&r, serial, i, o->releases, ngroups, (const char *const *)group_names, now,
                     &g);
        rc = insert_release(db, &g, res->user_id, group_ids[g.group], rule_id);
        for (int attempt = 1; rc == SP_CONFLICT && attempt < 8; attempt++) {
            /* a name taken by someone else's release: move to another title */
            serial += (uint64_t)attempt * 7919 * TITLE_SPACE;
            generate(&r, serial, i, o->releases, ngroups, (const char *const *)group_names, now,
                     &g);
            rc = insert_release(db, &g, res->user_id, group_ids[g.group], rule_id);
        }
        if (rc != SP_OK) {
            sp_err_set(e, "", "inserting release %lld failed: %s", (long long)i,
                       sp_db_errmsg(db));
            goto out;
        }
        int64_t rid = sp_db_last_insert_id(db);
        res->releases++;
        d.rel[g.status]++;
        const char *st = statuses[g.status].name;
        if (!strcmp(st, "completed") || !strcmp(st, "failed")) {
            bool failed = st[0] == 'f';
            rc = insert_job(db, rid, res->user_id, &g, failed, &r);
            if (rc != SP_OK) {
                sp_err_set(e, "", "inserting a job failed: %s", sp_db_errmsg(db));
                goto out;
            }
            res->jobs++;
            if (failed)
                d.job_failed++;
            else
                d.job_completed++;
        }
        if (!bulk && (i + 1) % BATCH == 0) {
            rc = sp_db_commit(db);
            in_tx = false;
            if (rc == SP_OK)
                rc = sp_db_begin(db);
            if (rc != SP_OK)
                goto out;
            in_tx = true;
        }
        if (o->progress && (i + 1) % PROGRESS_EVERY == 0 && i + 1 < o->releases)
            o->progress(o->progress_arg, i + 1, o->releases);
    }
    phase("rows inserted", &t_phase);
    if (bulk) {
        if (o->stage)
            o->stage(o->progress_arg, "rebuilding indexes");
        rc = restore(db, &indexes, e);
        phase("indexes rebuilt", &t_phase);
        if (o->stage && rc == SP_OK)
            o->stage(o->progress_arg, "filling the search table");
        if (rc == SP_OK)
            rc = fill_fts(db, base_id, e);
        phase("search table filled", &t_phase);
        if (rc == SP_OK)
            rc = apply_deltas(db, res->user_id, &d);
        if (rc == SP_OK)
            rc = restore(db, &triggers, e);
        if (rc != SP_OK)
            goto out;
    }
    /* One search segment. The bulk fill (and the triggers' batches) leave the index in several
     * segments, and FTS5 merges them into the commits of later inserts: with 100,000 seeded
     * releases every 64th draft created afterwards took 15-40 ms and a few 95-190 ms, against
     * 0.3 ms for the others (the same inserts after 'optimize': p99 1.4 ms). Merged once here
     * (0.4 s at 100,000 releases, 4.7 s at 1,000,000), new rows only merge with each other. */
    if (o->stage)
        o->stage(o->progress_arg, "merging the search index");
    rc = sp_db_exec(db, "INSERT INTO releases_fts(releases_fts) VALUES('optimize')", e);
    phase("search index merged", &t_phase);
    if (rc != SP_OK)
        goto out;
    if (o->stage)
        o->stage(o->progress_arg, "committing");
    rc = sp_db_commit(db);
    phase("committed", &t_phase);
    in_tx = false;
    if (rc != SP_OK)
        goto out;
    if (o->progress)
        o->progress(o->progress_arg, o->releases, o->releases);
    if (bulk) {
        /* fresh planner statistics after a large load (sampled: fast) */
        sp_db_exec(db, "PRAGMA analysis_limit=1000; ANALYZE", NULL);
        phase("analyzed", &t_phase);
        sp_db_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL);
        phase("checkpointed", &t_phase);
    }
out:
    if (in_tx)
        sp_db_rollback(db);
    if (rc != SP_OK && e && !e->message[0])
        sp_err_set(e, "", "seeding failed: %s", sp_db_errmsg(db));
    sp_db_exec(db, "PRAGMA cache_size=-16384; PRAGMA threads=0", NULL);
    saved_free(&triggers);
    saved_free(&indexes);
    for (int i = 0; i < MAX_GROUPS; i++)
        sp_free(group_names[i]);
    res->seconds = (double)(sp_time_mono_ns() - t_start) / 1e9;
    return rc;
}
