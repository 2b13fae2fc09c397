/*
 * CXapian — a small C API over Xapian 1.4 for Swift.
 *
 * Rules every function follows:
 *  - Nothing throws: every C++ exception is caught in CXapian.cpp and reported
 *    through the trailing `cx_error **err` out-parameter (which may be NULL when
 *    the caller does not care). On failure a function returns false / NULL and
 *    sets *err; on success *err is left untouched.
 *  - Strings cross as pointer + length: terms and data may hold NUL bytes.
 *  - Returned buffers (`char *` with a `size_t *len` out-parameter) are owned by
 *    the caller and released with cx_free(). They are never NULL on success,
 *    even when empty.
 *  - Every handle has a free function; its Swift owner calls it in deinit.
 *  - Xapian objects keep non-atomic reference counts: a database and every
 *    handle made from it (enquire, mset, query parser bound to it) must stay on
 *    one thread at a time.
 *
 * The calls are coarse on purpose: a whole field of text per call, a whole
 * result page per call, so the Swift/C boundary costs nothing that matters.
 */
#ifndef CXAPIAN_H
#define CXAPIAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Nullability annotations are Clang's; other compilers see plain C. */
#ifdef __clang__
#pragma clang assume_nonnull begin
#else
#define _Nullable
#define _Nonnull
#endif

typedef uint32_t cx_docid;

/* ---------------------------------------------------------------- errors */

typedef struct cx_error cx_error;

/** Xapian's error class without namespace, e.g. "DatabaseLockError",
 *  "QueryParserError", "DatabaseModifiedError"; "MemoryError" for
 *  std::bad_alloc, "UnknownError" for anything else. */
const char *cx_error_class(const cx_error *error);
/** Xapian's message, with the system error string appended when there is one. */
const char *cx_error_message(const cx_error *error);
void cx_error_free(cx_error *_Nullable error);

/** Releases a buffer returned by this API. */
void cx_free(void *_Nullable buffer);

/** Xapian's version string, e.g. "1.4.22". */
const char *cx_version(void);

/* ------------------------------------------------------------ term lists */

/** A list of (term, count) pairs: a document's terms with their wdf, the
 *  terms of a prefix with their term frequency, metadata keys (count 0),
 *  facet values with their frequency, expand-set terms. */
typedef struct cx_termlist cx_termlist;

size_t cx_termlist_count(const cx_termlist *list);
/** The bytes of item `index` (valid until the list is freed). */
const char *cx_termlist_term(const cx_termlist *list, size_t index, size_t *len);
uint64_t cx_termlist_freq(const cx_termlist *list, size_t index);
void cx_termlist_free(cx_termlist *_Nullable list);

/* ------------------------------------------------------------- databases */

typedef struct cx_db cx_db;
struct cx_doc; /* in C, a struct first named in a parameter list is local to it */

enum {
    /** Open for writing, creating the database if it does not exist. */
    CX_DB_CREATE_OR_OPEN = 1,
    /** Create a new database; fail if one exists. */
    CX_DB_CREATE = 2,
    /** Replace any existing database. */
    CX_DB_CREATE_OR_OVERWRITE = 3,
    /** Open an existing database for writing; fail if there is none. */
    CX_DB_OPEN = 4,
};

enum {
    /** Don't fsync on commit (for throw-away shards that are merged later). */
    CX_DB_NO_SYNC = 0x04,
    /** Wait for the write lock instead of failing with DatabaseLockError. */
    CX_DB_RETRY_LOCK = 0x10,
};

/** Opens a database read-only. `path` may be a directory or a stub database
 *  file naming local and remote shards. */
cx_db *_Nullable cx_db_open(const char *path, cx_error *_Nullable *_Nullable err);
/** Opens a database served by `xapian-tcpsrv` at host:port read-only, giving
 *  up (NetworkTimeoutError) after `timeout_ms`. */
cx_db *_Nullable cx_db_open_remote(const char *host, unsigned port, unsigned timeout_ms,
                                   cx_error *_Nullable *_Nullable err);
/** A read-only view over several open databases (shards), writable ones
 *  included with their uncommitted changes. Document k of shard i (0-based)
 *  is document (k - 1) * count + i + 1 of the view. The shards must outlive it. */
cx_db *_Nullable cx_db_open_combined(const cx_db *_Nonnull const *_Nonnull shards, size_t count,
                                     cx_error *_Nullable *_Nullable err);
/** Opens a database for writing. `mode` is one of CX_DB_CREATE_OR_OPEN …,
 *  `flags` a bitwise-or of CX_DB_NO_SYNC, CX_DB_RETRY_LOCK. A second writer
 *  gets DatabaseLockError. */
cx_db *_Nullable cx_db_open_writable(const char *path, int mode, int flags,
                                     cx_error *_Nullable *_Nullable err);
void cx_db_free(cx_db *_Nullable db);
bool cx_db_is_writable(const cx_db *db);

/** Brings a read-only database to the latest committed revision.
 *  *changed is set to whether it might have moved. */
bool cx_db_reopen(cx_db *db, bool *changed, cx_error *_Nullable *_Nullable err);
/** Releases files and locks now; later calls on the handle fail. */
bool cx_db_close(cx_db *db, cx_error *_Nullable *_Nullable err);

bool cx_db_doccount(cx_db *db, uint32_t *out, cx_error *_Nullable *_Nullable err);
bool cx_db_revision(cx_db *db, uint64_t *out, cx_error *_Nullable *_Nullable err);
bool cx_db_termfreq(cx_db *db, const char *term, size_t len, uint32_t *out,
                    cx_error *_Nullable *_Nullable err);
/** The docids of the documents indexed by `term` (at most `limit`; 0 = all). */
bool cx_db_postlist(cx_db *db, const char *term, size_t len, size_t limit,
                    cx_docid *_Nullable *_Nonnull docids, size_t *count,
                    cx_error *_Nullable *_Nullable err);
/** Every term starting with `prefix`, with its term frequency. */
cx_termlist *_Nullable cx_db_allterms(cx_db *db, const char *prefix, size_t len,
                                      cx_error *_Nullable *_Nullable err);
/** Like cx_db_allterms, but only the terms indexing at least `min_freq`
 *  documents: rare terms are skipped in C++ instead of crossing the boundary. */
cx_termlist *_Nullable cx_db_allterms_min_freq(cx_db *db, const char *prefix, size_t len,
                                               uint32_t min_freq,
                                               cx_error *_Nullable *_Nullable err);
/** Every metadata key starting with `prefix` (counts are 0). */
cx_termlist *_Nullable cx_db_metadata_keys(cx_db *db, const char *prefix, size_t len,
                                           cx_error *_Nullable *_Nullable err);
/** At most `limit` terms (with their frequencies) starting with `prefix` and sorting
 *  after `after` (from the first when it is empty), in order. */
cx_termlist *_Nullable cx_db_allterms_page(cx_db *db, const char *prefix, size_t len, const char *after,
                                           size_t afterlen, size_t limit, cx_error *_Nullable *_Nullable err);
/** At most `limit` metadata keys starting with `prefix` and sorting after `after`
 *  (from the first when it is empty), in order: a walk over many keys in pages. */
cx_termlist *_Nullable cx_db_metadata_keys_page(cx_db *db, const char *prefix, size_t len, const char *after,
                                                size_t afterlen, size_t limit, cx_error *_Nullable *_Nullable err);
char *_Nullable cx_db_get_metadata(cx_db *db, const char *key, size_t keylen, size_t *len,
                                   cx_error *_Nullable *_Nullable err);
/** Xapian's spelling suggestion for one word; empty when there is none. */
char *_Nullable cx_db_spelling_suggestion(cx_db *db, const char *word, size_t wordlen,
                                          unsigned max_edit_distance, size_t *len,
                                          cx_error *_Nullable *_Nullable err);

/** Runs Xapian's consistency check over the database at `path`. *errors gets
 *  the number of problems found; *report (cx_free) Xapian's own report. */
bool cx_db_check(const char *path, size_t *errors, char *_Nullable *_Nonnull report,
                 size_t *report_len, cx_error *_Nullable *_Nullable err);
/** Writes a compacted copy of `db` (all its shards merged) to `output`. */
bool cx_db_compact(cx_db *db, const char *output, cx_error *_Nullable *_Nullable err);

/* writing (the handle must come from cx_db_open_writable) */

bool cx_db_add_document(cx_db *db, const struct cx_doc *doc, cx_docid *_Nullable docid,
                        cx_error *_Nullable *_Nullable err);
/** Replaces every document indexed by `term` with `doc` (adds it when none). */
bool cx_db_replace_document_by_term(cx_db *db, const char *term, size_t len,
                                    const struct cx_doc *doc,
                                    cx_error *_Nullable *_Nullable err);
/** Replaces document `docid` with `doc` (adds it under that docid when absent). */
bool cx_db_replace_document(cx_db *db, cx_docid docid, const struct cx_doc *doc,
                            cx_error *_Nullable *_Nullable err);
/** Deletes every document indexed by `term`. */
bool cx_db_delete_document_by_term(cx_db *db, const char *term, size_t len,
                                   cx_error *_Nullable *_Nullable err);
bool cx_db_set_metadata(cx_db *db, const char *key, size_t keylen, const char *value,
                        size_t valuelen, cx_error *_Nullable *_Nullable err);
bool cx_db_add_spelling(cx_db *db, const char *word, size_t len, uint32_t freqinc,
                        cx_error *_Nullable *_Nullable err);
bool cx_db_commit(cx_db *db, cx_error *_Nullable *_Nullable err);

/* ------------------------------------------------------------- documents */

typedef struct cx_doc cx_doc;

cx_doc *_Nullable cx_doc_new(cx_error *_Nullable *_Nullable err);
/** Reads a stored document (its terms and values are read lazily). */
cx_doc *_Nullable cx_db_get_document(cx_db *db, cx_docid docid,
                                     cx_error *_Nullable *_Nullable err);
/** Like cx_db_get_document without Xapian's check that the document exists
 *  (a lookup): for an id just read from a posting list. A missing document
 *  then reads as empty. */
cx_doc *_Nullable cx_db_get_document_unchecked(cx_db *db, cx_docid docid,
                                               cx_error *_Nullable *_Nullable err);
void cx_doc_free(cx_doc *_Nullable doc);

bool cx_doc_add_term(cx_doc *doc, const char *term, size_t len, uint32_t wdfinc,
                     cx_error *_Nullable *_Nullable err);
bool cx_doc_add_boolean_term(cx_doc *doc, const char *term, size_t len,
                             cx_error *_Nullable *_Nullable err);
/** Removes `term` and its positions; fails with InvalidArgumentError when the
 *  document does not hold it. */
bool cx_doc_remove_term(cx_doc *doc, const char *term, size_t len,
                        cx_error *_Nullable *_Nullable err);
bool cx_doc_set_value(cx_doc *doc, uint32_t slot, const char *value, size_t len,
                      cx_error *_Nullable *_Nullable err);
char *_Nullable cx_doc_get_value(cx_doc *doc, uint32_t slot, size_t *len,
                                 cx_error *_Nullable *_Nullable err);
bool cx_doc_set_data(cx_doc *doc, const char *data, size_t len,
                     cx_error *_Nullable *_Nullable err);
char *_Nullable cx_doc_get_data(cx_doc *doc, size_t *len, cx_error *_Nullable *_Nullable err);
/** The document's terms with their wdf. */
cx_termlist *_Nullable cx_doc_terms(cx_doc *doc, cx_error *_Nullable *_Nullable err);

/** Encodes a number so that values sort numerically as strings
 *  (Xapian::sortable_serialise). `out` must hold 9 bytes; *len gets the size. */
void cx_sortable_serialise(double value, char out[_Nonnull 9], size_t *len);
double cx_sortable_unserialise(const char *value, size_t len);

/* -------------------------------------------------------- term generator */

typedef struct cx_termgen cx_termgen;

enum {
    /** Also add spelling data (needs cx_termgen_set_database). */
    CX_TG_SPELLING = 128,
    /** Index CJK text as n-grams. */
    CX_TG_CJK_NGRAM = 2048,
};

/** `language` is a Snowball stemmer name ("english", "french", …) or "" / "none"
 *  for no stemming; an unknown name fails with InvalidArgumentError.
 *  Stemming strategy is STEM_SOME: stems are added with a "Z" prefix. */
cx_termgen *_Nullable cx_termgen_new(const char *language, int flags,
                                     cx_error *_Nullable *_Nullable err);
void cx_termgen_free(cx_termgen *_Nullable tg);
/** The database spelling data goes to (with CX_TG_SPELLING). */
bool cx_termgen_set_database(cx_termgen *tg, cx_db *db, cx_error *_Nullable *_Nullable err);
/** Makes `doc` the target of the following index calls and resets positions. */
bool cx_termgen_set_document(cx_termgen *tg, cx_doc *doc, cx_error *_Nullable *_Nullable err);
/** Words longer than this many bytes are dropped (Xapian's default is 64). */
bool cx_termgen_set_max_word_length(cx_termgen *tg, unsigned length,
                                    cx_error *_Nullable *_Nullable err);
/** Indexes one field of text under `prefix` ("" for free text), with positions
 *  when `positions` is true. */
bool cx_termgen_index_text(cx_termgen *tg, const char *text, size_t len, uint32_t wdfinc,
                           const char *prefix, size_t prefixlen, bool positions,
                           cx_error *_Nullable *_Nullable err);
/** Leaves a gap in positions so phrases do not match across fields. */
bool cx_termgen_increase_termpos(cx_termgen *tg, uint32_t delta,
                                 cx_error *_Nullable *_Nullable err);

/** Checks a stemmer name; fails with InvalidArgumentError naming the known ones. */
bool cx_stem_check(const char *language, cx_error *_Nullable *_Nullable err);
/** Space-separated list of the stemmer names Xapian knows. */
const char *cx_stem_languages(void);

/* --------------------------------------------------------------- queries */

typedef struct cx_query cx_query;

enum {
    CX_OP_AND = 0,
    CX_OP_OR = 1,
    CX_OP_AND_NOT = 2,
    CX_OP_FILTER = 5,
    CX_OP_AND_MAYBE = 4,
    CX_OP_SYNONYM = 13,
};

cx_query *_Nullable cx_query_term(const char *term, size_t len,
                                  cx_error *_Nullable *_Nullable err);
/** A query that matches every document. */
cx_query *_Nullable cx_query_match_all(cx_error *_Nullable *_Nullable err);
/** Whether cx_enquire_weigh_by_lengths can weigh `query` from a length column: not
    a phrase or NEAR unless every document the query matches holds all its weighted terms. */
bool cx_query_weighable_by_lengths(const cx_query *query, bool *out, cx_error *_Nullable *_Nullable err);
/** Combines `count` subqueries with `op` (CX_OP_*). An empty list gives a
 *  query that matches nothing. */
cx_query *_Nullable cx_query_combine(int op, const cx_query *_Nonnull const *_Nullable subqueries,
                                     size_t count, cx_error *_Nullable *_Nullable err);
/** Documents whose value in `slot` lies in [lo, hi] (byte order); an empty
 *  `hi` with hi_open means no upper bound. */
cx_query *_Nullable cx_query_value_range(uint32_t slot, const char *lo, size_t lolen,
                                         const char *hi, size_t hilen, bool hi_open,
                                         cx_error *_Nullable *_Nullable err);
bool cx_query_is_empty(const cx_query *query);
char *_Nullable cx_query_description(const cx_query *query, size_t *len,
                                     cx_error *_Nullable *_Nullable err);
void cx_query_free(cx_query *_Nullable query);

/* ----------------------------------------------------------- query parser */

typedef struct cx_qp cx_qp;

enum {
    CX_QP_BOOLEAN = 1,
    CX_QP_PHRASE = 2,
    CX_QP_LOVEHATE = 4,
    CX_QP_BOOLEAN_ANY_CASE = 8,
    CX_QP_WILDCARD = 16,
    CX_QP_PURE_NOT = 32,
    CX_QP_PARTIAL = 64,
    CX_QP_SPELLING_CORRECTION = 128,
    CX_QP_CJK_NGRAM = 2048,
};

/** `language` as for cx_termgen_new; strategy STEM_SOME. */
cx_qp *_Nullable cx_qp_new(const char *language, cx_error *_Nullable *_Nullable err);
void cx_qp_free(cx_qp *_Nullable qp);
/** The database wildcards expand against and spelling comes from. */
bool cx_qp_set_database(cx_qp *qp, cx_db *db, cx_error *_Nullable *_Nullable err);
/** Default operator between bare words: CX_OP_AND or CX_OP_OR. */
bool cx_qp_set_default_op(cx_qp *qp, int op, cx_error *_Nullable *_Nullable err);
/** Caps wildcard expansion to the `limit` most frequent terms (0 = no cap). */
bool cx_qp_set_max_wildcard_expansion(cx_qp *qp, uint32_t limit,
                                      cx_error *_Nullable *_Nullable err);
bool cx_qp_add_prefix(cx_qp *qp, const char *field, const char *prefix,
                      cx_error *_Nullable *_Nullable err);
bool cx_qp_add_boolean_prefix(cx_qp *qp, const char *field, const char *prefix,
                              cx_error *_Nullable *_Nullable err);
/** Like cx_qp_add_boolean_prefix, but the value is lower-cased and its white
 *  space folded to single spaces before `prefix` is put in front. */
bool cx_qp_add_folded_boolean_prefix(cx_qp *qp, const char *field, const char *prefix,
                                     cx_error *_Nullable *_Nullable err);
/** `field:lo..hi` over dates stored as YYYYMMDD in `slot` (both ends optional;
 *  accepts YYYY-MM-DD and YYYYMMDD). */
bool cx_qp_add_date_range(cx_qp *qp, uint32_t slot, const char *field,
                          cx_error *_Nullable *_Nullable err);
/** `field:lo..hi` over numbers stored with cx_sortable_serialise in `slot`. */
bool cx_qp_add_number_range(cx_qp *qp, uint32_t slot, const char *field,
                            cx_error *_Nullable *_Nullable err);
/** Parses `text` with CX_QP_* `flags`. Syntax errors fail with QueryParserError. */
cx_query *_Nullable cx_qp_parse(cx_qp *qp, const char *text, size_t len, unsigned flags,
                                cx_error *_Nullable *_Nullable err);
/** After a parse with CX_QP_SPELLING_CORRECTION: the corrected query string,
 *  empty when no correction was found. */
char *_Nullable cx_qp_corrected_query(cx_qp *qp, size_t *len,
                                      cx_error *_Nullable *_Nullable err);

/* ---------------------------------------------------- enquire and results */

typedef struct cx_enquire cx_enquire;
typedef struct cx_mset cx_mset;
typedef struct cx_facet_column cx_facet_column;
typedef struct cx_length_column cx_length_column;

cx_enquire *_Nullable cx_enquire_new(cx_db *db, cx_error *_Nullable *_Nullable err);
void cx_enquire_free(cx_enquire *_Nullable enquire);
bool cx_enquire_set_query(cx_enquire *enquire, const cx_query *query,
                          cx_error *_Nullable *_Nullable err);
/** Sort by the value in `slot` (descending when `reverse`), ties by relevance. */
/** Sort by relevance, ties by the value in `slot` (ascending unless `reverse`):
 *  an order that does not depend on document numbers. */
bool cx_enquire_set_sort_by_relevance_then_value(cx_enquire *enquire, uint32_t slot, bool reverse,
                                                 cx_error *_Nullable *_Nullable err);
bool cx_enquire_set_sort_by_value(cx_enquire *enquire, uint32_t slot, bool reverse,
                                  cx_error *_Nullable *_Nullable err);
/** Like cx_enquire_set_sort_by_value, but documents without a value in `slot`
 *  sort as if they held `missing` (e.g. "\xff" to put them last in ascending order). */
bool cx_enquire_set_sort_by_value_missing(cx_enquire *enquire, uint32_t slot, bool reverse,
                                          const char *missing, size_t len,
                                          cx_error *_Nullable *_Nullable err);
/** Keep at most `max` hits per distinct value of `slot`. */
bool cx_enquire_set_collapse_key(cx_enquire *enquire, uint32_t slot, uint32_t max,
                                 cx_error *_Nullable *_Nullable err);
/** Stop matching after about `seconds` (0 = no limit); results so far are kept. */
bool cx_enquire_set_time_limit(cx_enquire *enquire, double seconds,
                               cx_error *_Nullable *_Nullable err);
/** Reads value slot `slot` of every document of `db` (a single local
 *  database, else an error) into memory at its current revision. Read-only
 *  once built: searchers on several threads may share it. */
cx_facet_column *_Nullable cx_facet_column_build(cx_db *db, uint32_t slot, cx_error *_Nullable *_Nullable err);
void cx_facet_column_free(cx_facet_column *_Nullable column);
/** Whether `column` was built from `db` as it is now: the same database (by
 *  UUID) at the same revision. */
bool cx_facet_column_fits(const cx_facet_column *column, cx_db *db, bool *out, cx_error *_Nullable *_Nullable err);
/** Reads the length of every document of `db` (a single local database, else
 *  an error) into memory at its current revision. Read-only once built. */
cx_length_column *_Nullable cx_length_column_build(cx_db *db, cx_error *_Nullable *_Nullable err);
void cx_length_column_free(cx_length_column *_Nullable column);
/** Whether `column` was built from `db` as it is now (UUID and revision). */
bool cx_length_column_fits(const cx_length_column *column, cx_db *db, bool *out, cx_error *_Nullable *_Nullable err);
/** Weighs the match with BM25 (Xapian's default scheme and parameters, the
 *  same weights, counts and percentages) reading document lengths from
 *  `column` instead of the database. Call after cx_enquire_set_query; a new
 *  query undoes it. *applied is false, and nothing changes, when the column
 *  does not fit this enquire's database or the query has a phrase or NEAR. */
bool cx_enquire_weigh_by_lengths(cx_enquire *enquire, const cx_length_column *column, bool *applied,
                                 cx_error *_Nullable *_Nullable err);
/** Counts the values of `slot` over the documents the match examines; returns
 *  an index for cx_enquire_facet_values. Add spies before cx_enquire_mset.
 *  With a `column` of `slot` built from this very database and revision (see
 *  cx_facet_column_fits), values are read from it instead of the database: the
 *  same counts, at an array read a document. Otherwise `column` is ignored. */
bool cx_enquire_add_facet(cx_enquire *enquire, uint32_t slot, const cx_facet_column *_Nullable column,
                          size_t *index, cx_error *_Nullable *_Nullable err);
/** The `max` most frequent values of facet `index` with their counts (0 = all). */
cx_termlist *_Nullable cx_enquire_facet_values(cx_enquire *enquire, size_t index,
                                               size_t max, cx_error *_Nullable *_Nullable err);
/** How many documents the facet spies looked at. */
bool cx_enquire_facet_total(cx_enquire *enquire, size_t index, uint64_t *out,
                            cx_error *_Nullable *_Nullable err);
/** Runs the match. `checkatleast` forces exact counting up to that many. */
cx_mset *_Nullable cx_enquire_mset(cx_enquire *enquire, uint32_t offset, uint32_t limit,
                                   uint32_t checkatleast, cx_error *_Nullable *_Nullable err);
/** The `max` best expand terms for the relevance set `docids`, unprefixed free
 *  text only (terms beginning with an ASCII capital are skipped), for
 *  "more like this". */
cx_termlist *_Nullable cx_enquire_expand(cx_enquire *enquire, const cx_docid *docids,
                                         size_t count, size_t max,
                                         cx_error *_Nullable *_Nullable err);

void cx_mset_free(cx_mset *_Nullable mset);
uint32_t cx_mset_size(const cx_mset *mset);

typedef struct cx_match_counts {
    uint32_t lower_bound;
    uint32_t estimated;
    uint32_t upper_bound;
} cx_match_counts;

bool cx_mset_counts(const cx_mset *mset, cx_match_counts *out,
                    cx_error *_Nullable *_Nullable err);

typedef struct cx_hit {
    cx_docid docid;
    uint32_t rank;
    double weight;
    int32_t percent;
    /** How many other documents were collapsed into this one. */
    uint32_t collapse_count;
} cx_hit;

bool cx_mset_hit(const cx_mset *mset, uint32_t index, cx_hit *out,
                 cx_error *_Nullable *_Nullable err);
char *_Nullable cx_mset_data(const cx_mset *mset, uint32_t index, size_t *len,
                             cx_error *_Nullable *_Nullable err);
char *_Nullable cx_mset_value(const cx_mset *mset, uint32_t index, uint32_t slot, size_t *len,
                              cx_error *_Nullable *_Nullable err);

enum {
    CX_SNIPPET_BACKGROUND_MODEL = 1,
    CX_SNIPPET_EXHAUSTIVE = 2,
    CX_SNIPPET_EMPTY_WITHOUT_MATCH = 4,
    CX_SNIPPET_CJK_NGRAM = 2048,
};

/** MSet::snippet: the best `length`-byte stretch of `text` with query terms
 *  wrapped in `hi_start` / `hi_end`, `omit` marking cut ends. `language` must
 *  match the query parser's. Nothing is HTML-escaped. */
char *_Nullable cx_mset_snippet(const cx_mset *mset, const char *text, size_t textlen,
                                size_t length, const char *language, unsigned flags,
                                const char *hi_start, const char *hi_end, const char *omit,
                                size_t *len, cx_error *_Nullable *_Nullable err);

#ifdef __clang__
#pragma clang assume_nonnull end
#endif

#ifdef __cplusplus
}
#endif

#endif
