// CXapian — the C shim over Xapian 1.4 declared in include/CXapian.h.

#include "CXapian.h"

#include <xapian.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <iterator>
#include <limits>
#include <memory>
#include <new>
#include <sstream>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

struct cx_error { std::string cls, msg; };
struct cx_termlist { std::vector<std::pair<std::string, uint64_t>> items; };
// Holds a Xapian::WritableDatabase when opened for writing; see writer().
struct cx_db { std::unique_ptr<Xapian::Database> db; };
struct cx_doc { Xapian::Document doc; };
struct cx_termgen { Xapian::TermGenerator tg; };
struct cx_query { Xapian::Query q; };
struct cx_qp { Xapian::QueryParser qp; };
// One value slot of one database at one revision, for every document: value
// `names[ordinals[docid]]`, ordinal 0 for none. Immutable once built, so the
// searchers of several threads share it, and a search's spy keeps it alive.
struct FacetColumnData {
    std::string uuid;
    Xapian::rev revision;
    Xapian::valueno slot;
    std::vector<uint32_t> ordinals;
    std::vector<std::string> names;
};
struct cx_facet_column { std::shared_ptr<const FacetColumnData> data; };
// Every document's length (the sum of its wdfs, what BM25 normalises by) of
// one database at one revision, by document number; `exists` marks the
// numbers in use. Immutable once built, shared like a facet column.
struct LengthColumnData {
    std::string uuid;
    Xapian::rev revision;
    Xapian::doccount documents;
    // Two bytes a document, so more of the column stays in the CPU's caches
    // (a search reads it at scattered places); `long_length` marks a length
    // that does not fit, kept in `long_lengths`.
    std::vector<uint16_t> lengths;
    std::unordered_map<Xapian::docid, Xapian::termcount> long_lengths;
    static constexpr uint16_t long_length = 0xFFFF;

    Xapian::termcount length(Xapian::docid did) const {
        if (did >= lengths.size()) return 0;
        const uint16_t length = lengths[did];
        if (length != long_length) return length;
        const auto found = long_lengths.find(did);
        return found == long_lengths.end() ? 0 : found->second;
    }
    std::vector<bool> exists;
};
struct cx_length_column { std::shared_ptr<const LengthColumnData> data; };
struct cx_enquire {
    Xapian::Enquire enquire;
    // The database `enquire` searches: a facet column must have been built from it.
    Xapian::Database db;
    // Owned by `enquire` (handed over with release()); valid while it lives.
    std::vector<Xapian::ValueCountMatchSpy *> spies;
    // Set by cx_enquire_weigh_by_lengths: the query and weighting scheme
    // read a length column, which a new query must undo.
    bool weighed_by_lengths = false;
};
struct cx_mset { Xapian::MSet mset; };

namespace {

// Reported when even allocating the error fails; never deleted.
cx_error out_of_memory{"MemoryError", "out of memory"};

template <class Make> void report(cx_error **err, Make make) noexcept {
    if (!err) return;
    try {
        *err = new cx_error(make());
    } catch (...) {
        *err = &out_of_memory;
    }
}

// Runs `body`, turning any exception into *err and a zero result (false/NULL).
template <class F> auto guard(cx_error **err, F &&body) noexcept -> decltype(body()) {
    try {
        return body();
    } catch (const Xapian::Error &e) {
        report(err, [&] {
            std::string msg = e.get_msg();
            const char *sys = e.get_error_string();
            if (sys && *sys) msg.append(": ").append(sys);
            return cx_error{e.get_type(), msg};
        });
    } catch (const std::bad_alloc &) {
        report(err, [] { return cx_error{"MemoryError", "out of memory"}; });
    } catch (const std::exception &e) {
        report(err, [&] { return cx_error{"UnknownError", e.what()}; });
    } catch (...) {
        report(err, [] { return cx_error{"UnknownError", "unknown C++ exception"}; });
    }
    return decltype(body()){};
}

// A caller-owned (cx_free), NUL-terminated copy of `s`.
char *buffer(const std::string &s, size_t *len) {
    auto *out = static_cast<char *>(std::malloc(s.size() + 1));
    if (!out) throw std::bad_alloc();
    std::memcpy(out, s.data(), s.size());
    out[s.size()] = '\0';
    *len = s.size();
    return out;
}

// Empty buffers may arrive as NULL from Swift.
std::string bytes(const char *data, size_t len) { return len ? std::string(data, len) : std::string(); }

template <class Count>
cx_termlist *collect(Xapian::TermIterator it, const Xapian::TermIterator &end, Count count) {
    auto list = std::make_unique<cx_termlist>();
    for (; it != end; ++it) list->items.emplace_back(*it, count(it));
    return list.release();
}

// At most `limit` items after `after` (from the first when it is empty): one page of a long walk.
template <class Count>
cx_termlist *collect_page(Xapian::TermIterator it, const Xapian::TermIterator &end, const std::string &after,
                          size_t limit, Count count) {
    auto list = std::make_unique<cx_termlist>();
    if (!after.empty()) {
        it.skip_to(after);
        if (it != end && *it == after) ++it;
    }
    for (; it != end && list->items.size() < limit; ++it) list->items.emplace_back(*it, count(it));
    return list.release();
}

Xapian::WritableDatabase &writer(cx_db *db) {
    auto *w = dynamic_cast<Xapian::WritableDatabase *>(db->db.get());
    if (!w) throw Xapian::InvalidOperationError("database is open read-only");
    return *w;
}

Xapian::Stem make_stem(const char *language) {
    const std::string name = language;
    if (name.empty() || name == "none") return Xapian::Stem();
    try {
        return Xapian::Stem(name);
    } catch (const Xapian::InvalidArgumentError &) {
        throw Xapian::InvalidArgumentError("unknown stemming language '" + name +
                                           "'; known: " + Xapian::Stem::get_available_languages());
    }
}

Xapian::Query::op query_op(int op) {
    switch (op) {
    case CX_OP_AND: return Xapian::Query::OP_AND;
    case CX_OP_OR: return Xapian::Query::OP_OR;
    case CX_OP_AND_NOT: return Xapian::Query::OP_AND_NOT;
    case CX_OP_FILTER: return Xapian::Query::OP_FILTER;
    case CX_OP_AND_MAYBE: return Xapian::Query::OP_AND_MAYBE;
    case CX_OP_SYNONYM: return Xapian::Query::OP_SYNONYM;
    }
    throw Xapian::InvalidArgumentError("unknown query operator " + std::to_string(op));
}

// `field:` as the range's prefix; an empty field takes bare ranges.
std::string range_prefix(const char *field) { return *field ? std::string(field) + ":" : std::string(); }

// Counts exactly what ValueCountMatchSpy counts, reading each document's value
// from a facet column instead of the database. Xapian's spy calls
// Document::get_value, which for glass finds the slot's chunk in the B-tree and
// decodes it from its start for every matching document: with 10,000 matches
// that was 16 % of the whole query mix at 100,000 articles. Here a document
// costs an array read. The counts go into the base class's map (publish) so its
// top-values and totals work unchanged.
class ColumnValueCountSpy : public Xapian::ValueCountMatchSpy {
    std::shared_ptr<const FacetColumnData> column;
    std::vector<Xapian::doccount> counts;
    // How many of the most frequent values were last handed to Xapian's map
    // (0: none yet; SIZE_MAX: all).
    size_t published = 0;

  public:
    explicit ColumnValueCountSpy(std::shared_ptr<const FacetColumnData> column_)
        : Xapian::ValueCountMatchSpy(column_->slot), column(std::move(column_)), counts(column->names.size(), 0) {}

    void operator()(const Xapian::Document &doc, double) override {
        ++internal->total;
        const Xapian::docid did = doc.get_docid();
        if (did < column->ordinals.size()) ++counts[column->ordinals[did]];
    }

    // Fills Xapian's map of value to count enough for its `top` most frequent
    // (0: every value), from which ValueCountMatchSpy picks them by count,
    // ties by value: every value counted at least as often as the top-th is
    // there, so its pick is the one it would make from all of them. Filling
    // the map with every one of an author facet's thousands of values, to
    // read a hundred, cost more than the counting.
    void publish(size_t top) {
        const size_t wanted = top == 0 ? SIZE_MAX : top;
        if (published >= wanted) return;
        Xapian::doccount least = 1;
        if (top != 0) {
            std::vector<Xapian::doccount> seen;
            for (size_t ordinal = 1; ordinal < counts.size(); ++ordinal) {
                if (counts[ordinal]) seen.push_back(counts[ordinal]);
            }
            if (seen.size() > top) {
                std::nth_element(seen.begin(), seen.begin() + static_cast<std::ptrdiff_t>(top - 1), seen.end(),
                                 std::greater<Xapian::doccount>());
                least = seen[top - 1];
            }
        }
        internal->values.clear();
        for (size_t ordinal = 1; ordinal < counts.size(); ++ordinal) {
            if (counts[ordinal] >= least) internal->values.emplace(column->names[ordinal], counts[ordinal]);
        }
        published = wanted;
    }

    Xapian::MatchSpy *clone() const override { return new ColumnValueCountSpy(column); }
};

// Whether `column` (facet or length) was read from `db` as it is now: the same
// single database, same revision.
template <class Column> bool column_fits(const Column &column, const Xapian::Database &db) {
    return db.size() == 1 && db.get_revision() == column.revision && db.get_uuid() == column.uuid;
}

// An empty `Column` (facet or length) of `db` as it is now. Columns hold one
// database's document numbers: not for a combination of shards or a remote one.
template <class Column> std::shared_ptr<Column> new_column(const Xapian::Database &db, const char *kind) {
    if (db.size() != 1) throw Xapian::InvalidArgumentError(std::string("a ") + kind + " column needs a single local database");
    auto column = std::make_shared<Column>();
    column->uuid = db.get_uuid();
    column->revision = db.get_revision();
    return column;
}

Xapian::ValueCountMatchSpy &facet(cx_enquire *enquire, size_t index) {
    if (index >= enquire->spies.size()) throw Xapian::InvalidArgumentError("no such facet");
    return *enquire->spies[index];
}

// Facet `index` of `enquire`, ready to give its `top` most frequent values
// (0: all of them).
Xapian::ValueCountMatchSpy &facet(cx_enquire *enquire, size_t index, size_t top) {
    Xapian::ValueCountMatchSpy &spy = facet(enquire, index);
    if (auto *column = dynamic_cast<ColumnValueCountSpy *>(&spy)) column->publish(top);
    return spy;
}

// Where the match is: the document it is about to weigh. Written by a
// MatchPositionSource, read by ColumnBM25Weight; one per search.
struct MatchPosition {
    Xapian::docid did = 0;
};

// Weighs nothing; it only notes each document the match considers, in one of
// two places (see cx_enquire_weigh_by_lengths):
//  - on the right of OP_AND_MAYBE with its weight scaled to 0, matching
//    nothing: Xapian asks it to check() every candidate of the left side
//    before weighing that candidate, and reporting the check as undecided
//    (false) leaves the AND_MAYBE's counts, weights and percentages exactly
//    those of its left side;
//  - as one more part of a conjunctive query's AND, matching everything: it
//    is then among the parts Xapian moves to each candidate before a phrase
//    or NEAR inside that AND weighs it.
class MatchPositionSource : public Xapian::PostingSource {
    std::shared_ptr<const LengthColumnData> column;
    std::shared_ptr<MatchPosition> position;
    bool matches_all;
    Xapian::docid did = 0;

    // Reached if Xapian turns the AND_MAYBE into an AND (when no further
    // document can enter the results), or if the source leads an AND (when
    // every other part is in every document): walk the documents that exist.
    void move_to(Xapian::docid target) {
        while (target < column->exists.size() && !column->exists[target]) ++target;
        did = target;
        position->did = target;
    }

  public:
    MatchPositionSource(std::shared_ptr<const LengthColumnData> column_, std::shared_ptr<MatchPosition> position_,
                        bool matches_all_)
        : column(std::move(column_)), position(std::move(position_)), matches_all(matches_all_) {}

    // Exact when it matches everything, so an AND's bounds and estimate stay its other parts'.
    Xapian::doccount get_termfreq_min() const override { return matches_all ? column->documents : 0; }
    Xapian::doccount get_termfreq_est() const override { return column->documents; }
    Xapian::doccount get_termfreq_max() const override { return column->documents; }
    void init(const Xapian::Database &) override { did = 0; }
    void next(double) override { move_to(did + 1); }
    void skip_to(Xapian::docid target, double) override {
        if (target > did) move_to(target);
    }
    bool check(Xapian::docid target, double) override {
        position->did = target;
        if (matches_all) did = target;
        return matches_all;
    }
    bool at_end() const override { return did >= column->exists.size(); }
    Xapian::docid get_docid() const override { return did; }
    MatchPositionSource *clone() const override { return new MatchPositionSource(column, position, matches_all); }
};

// BM25 as Xapian::BM25Weight() scores it, with its default parameters (k1 = 1,
// k2 = 0, k3 = 1, b = 0.5, min_normlen = 0.5) and no relevance set, which
// Quarry's searches never give: for a term t of the query and a document d,
//
//   idf(t) = ln(r) with r = (N - n + 0.5) / (n + 0.5), and r' = r / 2 + 1
//            in place of r when r < 2, so that no term weighs 0 or less;
//   q(t)   = 2 wqf / (1 + wqf), the query-frequency part (k3 = 1);
//   L(d)   = max(length(d) / average length, 0.5);
//   w(t,d) = 2 idf(t) q(t) * wdf / (L(d) / 2 + 1 / 2 + wdf),
//
// N the documents, n those with t. Each step is done in the order Xapian's
// scheme does it, so each weight is the same double, which the tests check.
// The difference: the document's length is read from a LengthColumnData at
// the position a MatchPositionSource noted, not asked of Xapian. Asking
// (DOC_LENGTH) costs, for every document weighed, a walk along the
// database's document-length list: glass scans a chunk entry by entry from
// where the last lookup stopped, so a query whose matches spread over the
// index decodes most of the list (a quarter of the query mix's time at
// 100,000 articles).
class ColumnBM25Weight : public Xapian::Weight {
    std::shared_ptr<const LengthColumnData> column;
    std::shared_ptr<MatchPosition> position;
    // 2 idf(t) q(t), times the query's scale factor.
    double term_scale = 0;
    // 1 / average length, or 0 when every document is empty.
    double per_length = 0;

    // L(d) / 2 + 1 / 2 for a document of `length`.
    double normalised(double length) const { return std::max(length * per_length, 0.5) * 0.5 + 0.5; }

  public:
    ColumnBM25Weight(std::shared_ptr<const LengthColumnData> column_, std::shared_ptr<MatchPosition> position_)
        : column(std::move(column_)), position(std::move(position_)) {
        // Everything the formula reads except DOC_LENGTH.
        need_stat(COLLECTION_SIZE);
        need_stat(TERMFREQ);
        need_stat(WQF);
        need_stat(WDF);
        need_stat(WDF_MAX);
        need_stat(DOC_LENGTH_MIN);
        need_stat(AVERAGE_LENGTH);
    }

    ColumnBM25Weight *clone() const override { return new ColumnBM25Weight(column, position); }

    void init(double factor) override {
        const Xapian::doccount n = get_termfreq();
        double ratio = (get_collection_size() - n + 0.5) / (n + 0.5);
        if (ratio < 2) ratio = ratio * 0.5 + 1;
        const double wqf = get_wqf();
        term_scale = std::log(ratio) * factor;
        term_scale *= 2 * wqf / (1 + wqf);
        term_scale *= 2;
        const double average = get_average_length();
        per_length = average == 0 ? 0 : 1 / average;
    }

    double get_sumpart(Xapian::termcount wdf, Xapian::termcount, Xapian::termcount) const override {
        const Xapian::docid did = position->did;
        const Xapian::termcount length = column->length(did);
        // A synonym's summed wdf can exceed the length; Xapian clamps it to
        // the length it fetches for BM25.
        const double occurrences = std::min(wdf, length);
        return term_scale * (occurrences / (normalised(length) + occurrences));
    }

    // The most a document can weigh: the most occurrences, in the shortest
    // document that can hold them.
    double get_maxpart() const override {
        const double most = get_wdf_upper_bound();
        const double shortest = std::max(get_wdf_upper_bound(), get_doclength_lower_bound());
        return term_scale * (most / (normalised(shortest) + most));
    }

    double get_sumextra(Xapian::termcount, Xapian::termcount) const override { return 0; }
    double get_maxextra() const override { return 0; }
};

// Whether `query` holds a phrase or NEAR. Their matching weighs a candidate
// inside the query, before an OP_AND_MAYBE around it has checked the
// candidate on its right (Xapian vets a candidate's weight before reading
// its positions).
bool positional(const Xapian::Query &query) {
    const auto type = query.get_type();
    if (type == Xapian::Query::OP_PHRASE || type == Xapian::Query::OP_NEAR) return true;
    for (size_t i = 0; i < query.get_num_subqueries(); ++i) {
        if (positional(query.get_subquery(i))) return true;
    }
    return false;
}

// Whether a filter's unweighted side is terms alone, which count toward
// neither side of Xapian's percentage.
bool boolean_terms(const Xapian::Query &query) {
    switch (query.get_type()) {
        case Xapian::Query::LEAF_TERM: return true;
        case Xapian::Query::OP_AND: case Xapian::Query::OP_OR: case Xapian::Query::OP_AND_NOT:
        case Xapian::Query::OP_XOR: case Xapian::Query::OP_FILTER:
            for (size_t i = 0; i < query.get_num_subqueries(); ++i) {
                if (!boolean_terms(query.get_subquery(i))) return false;
            }
            return true;
        default: return false;
    }
}

// Whether every document `query` matches holds every weighted term of it:
// terms joined by AND, phrases and NEAR, filtered by terms. Xapian's
// percentage scales by the weighted parts the best document matches over
// those in the query; for such a query that is n / n, and one part more on
// both sides, (n + 1) / (n + 1), is the same 1.0.
bool conjunctive(const Xapian::Query &query) {
    switch (query.get_type()) {
        case Xapian::Query::LEAF_TERM: return true;
        case Xapian::Query::OP_AND: case Xapian::Query::OP_PHRASE: case Xapian::Query::OP_NEAR:
            for (size_t i = 0; i < query.get_num_subqueries(); ++i) {
                if (!conjunctive(query.get_subquery(i))) return false;
            }
            return query.get_num_subqueries() > 0;
        case Xapian::Query::OP_FILTER:
            for (size_t i = 1; i < query.get_num_subqueries(); ++i) {
                if (!boolean_terms(query.get_subquery(i))) return false;
            }
            return query.get_num_subqueries() > 0 && conjunctive(query.get_subquery(0));
        default: return false;
    }
}

// Whether cx_enquire_weigh_by_lengths can weigh `query` from a column.
bool weighable_by_lengths(const Xapian::Query &query) { return !positional(query) || conjunctive(query); }

Xapian::MSetIterator hit_at(const cx_mset *mset, uint32_t index) {
    if (index >= mset->mset.size()) throw Xapian::InvalidArgumentError("no such hit");
    return mset->mset[index];
}

// Terms with a capitalised first byte carry a field prefix.
struct FreeTextOnly : Xapian::ExpandDecider {
    bool operator()(const std::string &term) const override {
        return term.empty() || term[0] < 'A' || term[0] > 'Z';
    }
};

} // namespace

extern "C" {

// ------------------------------------------------------------------ errors

const char *cx_error_class(const cx_error *error) { return error->cls.c_str(); }
const char *cx_error_message(const cx_error *error) { return error->msg.c_str(); }
void cx_error_free(cx_error *error) {
    if (error != &out_of_memory) delete error;
}

void cx_free(void *buffer) { std::free(buffer); }

const char *cx_version(void) { return Xapian::version_string(); }

// -------------------------------------------------------------- term lists

size_t cx_termlist_count(const cx_termlist *list) { return list->items.size(); }

const char *cx_termlist_term(const cx_termlist *list, size_t index, size_t *len) {
    const std::string &term = list->items[index].first;
    *len = term.size();
    return term.c_str();
}

uint64_t cx_termlist_freq(const cx_termlist *list, size_t index) { return list->items[index].second; }

void cx_termlist_free(cx_termlist *list) { delete list; }

// --------------------------------------------------------------- databases

cx_db *cx_db_open(const char *path, cx_error **err) {
    return guard(err, [&] { return new cx_db{std::make_unique<Xapian::Database>(path)}; });
}

cx_db *cx_db_open_remote(const char *host, unsigned port, unsigned timeout_ms, cx_error **err) {
    return guard(err, [&] {
        useconds_t timeout = static_cast<useconds_t>(timeout_ms) * 1000;
        return new cx_db{std::make_unique<Xapian::Database>(Xapian::Remote::open(host, port, timeout, timeout))};
    });
}

cx_db *cx_db_open_combined(const cx_db *const *shards, size_t count, cx_error **err) {
    return guard(err, [&] {
        auto combined = std::make_unique<Xapian::Database>();
        // A writable shard shares its internals: the view sees its uncommitted changes.
        for (size_t i = 0; i < count; ++i) combined->add_database(*shards[i]->db);
        return new cx_db{std::move(combined)};
    });
}

cx_db *cx_db_open_writable(const char *path, int mode, int flags, cx_error **err) {
    return guard(err, [&] {
        int action;
        switch (mode) {
        case CX_DB_CREATE_OR_OPEN: action = Xapian::DB_CREATE_OR_OPEN; break;
        case CX_DB_CREATE: action = Xapian::DB_CREATE; break;
        case CX_DB_CREATE_OR_OVERWRITE: action = Xapian::DB_CREATE_OR_OVERWRITE; break;
        case CX_DB_OPEN: action = Xapian::DB_OPEN; break;
        default: throw Xapian::InvalidArgumentError("unknown open mode " + std::to_string(mode));
        }
        if (flags & ~(CX_DB_NO_SYNC | CX_DB_RETRY_LOCK))
            throw Xapian::InvalidArgumentError("unknown open flags " + std::to_string(flags));
        if (flags & CX_DB_NO_SYNC) action |= Xapian::DB_NO_SYNC;
        if (flags & CX_DB_RETRY_LOCK) action |= Xapian::DB_RETRY_LOCK;
        return new cx_db{std::make_unique<Xapian::WritableDatabase>(path, action)};
    });
}

void cx_db_free(cx_db *db) { delete db; }

bool cx_db_is_writable(const cx_db *db) {
    return dynamic_cast<const Xapian::WritableDatabase *>(db->db.get()) != nullptr;
}

bool cx_db_reopen(cx_db *db, bool *changed, cx_error **err) {
    return guard(err, [&] {
        *changed = db->db->reopen();
        return true;
    });
}

bool cx_db_close(cx_db *db, cx_error **err) {
    return guard(err, [&] {
        db->db->close();
        return true;
    });
}

bool cx_db_doccount(cx_db *db, uint32_t *out, cx_error **err) {
    return guard(err, [&] {
        *out = db->db->get_doccount();
        return true;
    });
}

bool cx_db_revision(cx_db *db, uint64_t *out, cx_error **err) {
    return guard(err, [&] {
        *out = db->db->get_revision();
        return true;
    });
}

bool cx_db_termfreq(cx_db *db, const char *term, size_t len, uint32_t *out, cx_error **err) {
    return guard(err, [&] {
        *out = db->db->get_termfreq(bytes(term, len));
        return true;
    });
}

bool cx_db_postlist(cx_db *db, const char *term, size_t len, size_t limit, cx_docid **docids,
                    size_t *count, cx_error **err) {
    return guard(err, [&] {
        const std::string t = bytes(term, len);
        std::vector<cx_docid> ids;
        for (auto it = db->db->postlist_begin(t); it != db->db->postlist_end(t); ++it) {
            if (limit && ids.size() == limit) break;
            ids.push_back(*it);
        }
        auto *out = static_cast<cx_docid *>(std::malloc(ids.empty() ? 1 : ids.size() * sizeof(cx_docid)));
        if (!out) throw std::bad_alloc();
        std::copy(ids.begin(), ids.end(), out);
        *docids = out;
        *count = ids.size();
        return true;
    });
}

cx_termlist *cx_db_allterms(cx_db *db, const char *prefix, size_t len, cx_error **err) {
    return cx_db_allterms_min_freq(db, prefix, len, 0, err);
}

cx_termlist *cx_db_allterms_min_freq(cx_db *db, const char *prefix, size_t len, uint32_t min_freq,
                                     cx_error **err) {
    return guard(err, [&] {
        const std::string p = bytes(prefix, len);
        auto list = std::make_unique<cx_termlist>();
        for (auto it = db->db->allterms_begin(p); it != db->db->allterms_end(p); ++it) {
            const Xapian::doccount freq = it.get_termfreq();
            if (freq >= min_freq) list->items.emplace_back(*it, freq);
        }
        return list.release();
    });
}

cx_termlist *cx_db_metadata_keys(cx_db *db, const char *prefix, size_t len, cx_error **err) {
    return guard(err, [&] {
        const std::string p = bytes(prefix, len);
        return collect(db->db->metadata_keys_begin(p), db->db->metadata_keys_end(p),
                       [](const Xapian::TermIterator &) { return 0; });
    });
}

cx_termlist *cx_db_allterms_page(cx_db *db, const char *prefix, size_t len, const char *after, size_t afterlen,
                                 size_t limit, cx_error **err) {
    return guard(err, [&] {
        const std::string p = bytes(prefix, len);
        return collect_page(db->db->allterms_begin(p), db->db->allterms_end(p), bytes(after, afterlen), limit,
                            [](const Xapian::TermIterator &it) { return it.get_termfreq(); });
    });
}

cx_termlist *cx_db_metadata_keys_page(cx_db *db, const char *prefix, size_t len, const char *after, size_t afterlen,
                                      size_t limit, cx_error **err) {
    return guard(err, [&] {
        const std::string p = bytes(prefix, len);
        return collect_page(db->db->metadata_keys_begin(p), db->db->metadata_keys_end(p), bytes(after, afterlen),
                            limit, [](const Xapian::TermIterator &) { return 0; });
    });
}

char *cx_db_get_metadata(cx_db *db, const char *key, size_t keylen, size_t *len, cx_error **err) {
    return guard(err, [&] { return buffer(db->db->get_metadata(bytes(key, keylen)), len); });
}

char *cx_db_spelling_suggestion(cx_db *db, const char *word, size_t wordlen,
                                unsigned max_edit_distance, size_t *len, cx_error **err) {
    return guard(err, [&] {
        return buffer(db->db->get_spelling_suggestion(bytes(word, wordlen), max_edit_distance), len);
    });
}

bool cx_db_check(const char *path, size_t *errors, char **report, size_t *report_len, cx_error **err) {
    return guard(err, [&] {
        std::ostringstream out;
        const size_t found = Xapian::Database::check(path, 0, &out);
        *report = buffer(out.str(), report_len);
        *errors = found;
        return true;
    });
}

bool cx_db_compact(cx_db *db, const char *output, cx_error **err) {
    return guard(err, [&] {
        db->db->compact(output);
        return true;
    });
}

bool cx_db_add_document(cx_db *db, const cx_doc *doc, cx_docid *docid, cx_error **err) {
    return guard(err, [&] {
        const Xapian::docid id = writer(db).add_document(doc->doc);
        if (docid) *docid = id;
        return true;
    });
}

bool cx_db_replace_document_by_term(cx_db *db, const char *term, size_t len, const cx_doc *doc,
                                    cx_error **err) {
    return guard(err, [&] {
        writer(db).replace_document(bytes(term, len), doc->doc);
        return true;
    });
}

bool cx_db_replace_document(cx_db *db, cx_docid docid, const cx_doc *doc, cx_error **err) {
    return guard(err, [&] {
        writer(db).replace_document(docid, doc->doc);
        return true;
    });
}

bool cx_db_delete_document_by_term(cx_db *db, const char *term, size_t len, cx_error **err) {
    return guard(err, [&] {
        writer(db).delete_document(bytes(term, len));
        return true;
    });
}

bool cx_db_set_metadata(cx_db *db, const char *key, size_t keylen, const char *value,
                        size_t valuelen, cx_error **err) {
    return guard(err, [&] {
        writer(db).set_metadata(bytes(key, keylen), bytes(value, valuelen));
        return true;
    });
}

bool cx_db_add_spelling(cx_db *db, const char *word, size_t len, uint32_t freqinc, cx_error **err) {
    return guard(err, [&] {
        writer(db).add_spelling(bytes(word, len), freqinc);
        return true;
    });
}

bool cx_db_commit(cx_db *db, cx_error **err) {
    return guard(err, [&] {
        writer(db).commit();
        return true;
    });
}

// --------------------------------------------------------------- documents

cx_doc *cx_doc_new(cx_error **err) {
    return guard(err, [] { return new cx_doc{}; });
}

cx_doc *cx_db_get_document(cx_db *db, cx_docid docid, cx_error **err) {
    return guard(err, [&] { return new cx_doc{db->db->get_document(docid)}; });
}

cx_doc *cx_db_get_document_unchecked(cx_db *db, cx_docid docid, cx_error **err) {
    return guard(err, [&] { return new cx_doc{db->db->get_document(docid, Xapian::DOC_ASSUME_VALID)}; });
}

void cx_doc_free(cx_doc *doc) { delete doc; }

bool cx_doc_add_term(cx_doc *doc, const char *term, size_t len, uint32_t wdfinc, cx_error **err) {
    return guard(err, [&] {
        doc->doc.add_term(bytes(term, len), wdfinc);
        return true;
    });
}

bool cx_doc_add_boolean_term(cx_doc *doc, const char *term, size_t len, cx_error **err) {
    return guard(err, [&] {
        doc->doc.add_boolean_term(bytes(term, len));
        return true;
    });
}

bool cx_doc_remove_term(cx_doc *doc, const char *term, size_t len, cx_error **err) {
    return guard(err, [&] {
        doc->doc.remove_term(bytes(term, len));
        return true;
    });
}

bool cx_doc_set_value(cx_doc *doc, uint32_t slot, const char *value, size_t len, cx_error **err) {
    return guard(err, [&] {
        doc->doc.add_value(slot, bytes(value, len));
        return true;
    });
}

char *cx_doc_get_value(cx_doc *doc, uint32_t slot, size_t *len, cx_error **err) {
    return guard(err, [&] { return buffer(doc->doc.get_value(slot), len); });
}

bool cx_doc_set_data(cx_doc *doc, const char *data, size_t len, cx_error **err) {
    return guard(err, [&] {
        doc->doc.set_data(bytes(data, len));
        return true;
    });
}

char *cx_doc_get_data(cx_doc *doc, size_t *len, cx_error **err) {
    return guard(err, [&] { return buffer(doc->doc.get_data(), len); });
}

cx_termlist *cx_doc_terms(cx_doc *doc, cx_error **err) {
    return guard(err, [&] {
        return collect(doc->doc.termlist_begin(), doc->doc.termlist_end(),
                       [](const Xapian::TermIterator &it) { return it.get_wdf(); });
    });
}

void cx_sortable_serialise(double value, char out[9], size_t *len) {
    *len = Xapian::sortable_serialise_(value, out);
}

double cx_sortable_unserialise(const char *value, size_t len) {
    try {
        return Xapian::sortable_unserialise(bytes(value, len));
    } catch (...) {
        return std::numeric_limits<double>::quiet_NaN();
    }
}

// ---------------------------------------------------------- term generator

cx_termgen *cx_termgen_new(const char *language, int flags, cx_error **err) {
    return guard(err, [&] {
        auto tg = std::make_unique<cx_termgen>();
        tg->tg.set_stemmer(make_stem(language));
        tg->tg.set_stemming_strategy(Xapian::TermGenerator::STEM_SOME);
        tg->tg.set_flags(flags);
        return tg.release();
    });
}

void cx_termgen_free(cx_termgen *tg) { delete tg; }

bool cx_termgen_set_database(cx_termgen *tg, cx_db *db, cx_error **err) {
    return guard(err, [&] {
        tg->tg.set_database(writer(db));
        return true;
    });
}

bool cx_termgen_set_document(cx_termgen *tg, cx_doc *doc, cx_error **err) {
    return guard(err, [&] {
        tg->tg.set_document(doc->doc);
        tg->tg.set_termpos(0);
        return true;
    });
}

bool cx_termgen_set_max_word_length(cx_termgen *tg, unsigned length, cx_error **err) {
    return guard(err, [&] {
        tg->tg.set_max_word_length(length);
        return true;
    });
}

bool cx_termgen_index_text(cx_termgen *tg, const char *text, size_t len, uint32_t wdfinc,
                           const char *prefix, size_t prefixlen, bool positions, cx_error **err) {
    return guard(err, [&] {
        const std::string t = bytes(text, len), p = bytes(prefix, prefixlen);
        if (positions)
            tg->tg.index_text(t, wdfinc, p);
        else
            tg->tg.index_text_without_positions(t, wdfinc, p);
        return true;
    });
}

bool cx_termgen_increase_termpos(cx_termgen *tg, uint32_t delta, cx_error **err) {
    return guard(err, [&] {
        tg->tg.increase_termpos(delta);
        return true;
    });
}

bool cx_stem_check(const char *language, cx_error **err) {
    return guard(err, [&] {
        make_stem(language);
        return true;
    });
}

const char *cx_stem_languages(void) {
    try {
        static const std::string languages = Xapian::Stem::get_available_languages();
        return languages.c_str();
    } catch (...) {
        return "";
    }
}

// ----------------------------------------------------------------- queries

cx_query *cx_query_term(const char *term, size_t len, cx_error **err) {
    return guard(err, [&] { return new cx_query{Xapian::Query(bytes(term, len))}; });
}

bool cx_query_weighable_by_lengths(const cx_query *query, bool *out, cx_error **err) {
    return guard(err, [&] {
        *out = weighable_by_lengths(query->q);
        return true;
    });
}

cx_query *cx_query_match_all(cx_error **err) {
    return guard(err, [] { return new cx_query{Xapian::Query::MatchAll}; });
}

cx_query *cx_query_combine(int op, const cx_query *const *subqueries, size_t count, cx_error **err) {
    return guard(err, [&] {
        const Xapian::Query::op xop = query_op(op);
        std::vector<Xapian::Query> subs;
        subs.reserve(count);
        for (size_t i = 0; i < count; ++i) subs.push_back(subqueries[i]->q);
        // No subqueries gives Xapian's empty query, which matches nothing.
        return new cx_query{Xapian::Query(xop, subs.begin(), subs.end())};
    });
}

cx_query *cx_query_value_range(uint32_t slot, const char *lo, size_t lolen, const char *hi,
                               size_t hilen, bool hi_open, cx_error **err) {
    return guard(err, [&] {
        if (hi_open) return new cx_query{Xapian::Query(Xapian::Query::OP_VALUE_GE, slot, bytes(lo, lolen))};
        return new cx_query{Xapian::Query(Xapian::Query::OP_VALUE_RANGE, slot, bytes(lo, lolen),
                                          bytes(hi, hilen))};
    });
}

bool cx_query_is_empty(const cx_query *query) { return query->q.empty(); }

char *cx_query_description(const cx_query *query, size_t *len, cx_error **err) {
    return guard(err, [&] { return buffer(query->q.get_description(), len); });
}

void cx_query_free(cx_query *query) { delete query; }

// ------------------------------------------------------------ query parser

cx_qp *cx_qp_new(const char *language, cx_error **err) {
    return guard(err, [&] {
        auto qp = std::make_unique<cx_qp>();
        qp->qp.set_stemmer(make_stem(language));
        qp->qp.set_stemming_strategy(Xapian::QueryParser::STEM_SOME);
        return qp.release();
    });
}

void cx_qp_free(cx_qp *qp) { delete qp; }

bool cx_qp_set_database(cx_qp *qp, cx_db *db, cx_error **err) {
    return guard(err, [&] {
        qp->qp.set_database(*db->db);
        return true;
    });
}

bool cx_qp_set_default_op(cx_qp *qp, int op, cx_error **err) {
    return guard(err, [&] {
        if (op != CX_OP_AND && op != CX_OP_OR)
            throw Xapian::InvalidArgumentError("default operator must be AND or OR");
        qp->qp.set_default_op(query_op(op));
        return true;
    });
}

bool cx_qp_set_max_wildcard_expansion(cx_qp *qp, uint32_t limit, cx_error **err) {
    return guard(err, [&] {
        qp->qp.set_max_expansion(limit, Xapian::Query::WILDCARD_LIMIT_MOST_FREQUENT,
                                 Xapian::QueryParser::FLAG_WILDCARD | Xapian::QueryParser::FLAG_PARTIAL);
        return true;
    });
}

bool cx_qp_add_prefix(cx_qp *qp, const char *field, const char *prefix, cx_error **err) {
    return guard(err, [&] {
        qp->qp.add_prefix(field, prefix);
        return true;
    });
}

bool cx_qp_add_boolean_prefix(cx_qp *qp, const char *field, const char *prefix, cx_error **err) {
    return guard(err, [&] {
        qp->qp.add_boolean_prefix(field, prefix);
        return true;
    });
}

namespace {
// `by:"Golova  HVOSTA"` must find the term indexed for "golova hvosta": the
// value is lower-cased and its white space folded, as QuarryCore does at index time.
class FoldedBooleanProcessor : public Xapian::FieldProcessor {
    std::string prefix;
  public:
    explicit FoldedBooleanProcessor(std::string prefix_) : prefix(std::move(prefix_)) {}
    Xapian::Query operator()(const std::string &value) override {
        std::string folded;
        bool space = false;
        for (Xapian::Utf8Iterator it(value); it != Xapian::Utf8Iterator(); ++it) {
            unsigned ch = *it;
            if (Xapian::Unicode::is_whitespace(ch)) {
                space = true;
                continue;
            }
            if (space && !folded.empty()) folded += ' ';
            space = false;
            Xapian::Unicode::append_utf8(folded, Xapian::Unicode::tolower(ch));
        }
        return Xapian::Query(prefix + folded);
    }
};
}

bool cx_qp_add_folded_boolean_prefix(cx_qp *qp, const char *field, const char *prefix, cx_error **err) {
    return guard(err, [&] {
        qp->qp.add_boolean_prefix(field, (new FoldedBooleanProcessor(prefix))->release());
        return true;
    });
}

// The QueryParser keeps released range processors alive by reference count.
bool cx_qp_add_date_range(cx_qp *qp, uint32_t slot, const char *field, cx_error **err) {
    return guard(err, [&] {
        qp->qp.add_rangeprocessor((new Xapian::DateRangeProcessor(slot, range_prefix(field)))->release());
        return true;
    });
}

bool cx_qp_add_number_range(cx_qp *qp, uint32_t slot, const char *field, cx_error **err) {
    return guard(err, [&] {
        qp->qp.add_rangeprocessor((new Xapian::NumberRangeProcessor(slot, range_prefix(field)))->release());
        return true;
    });
}

cx_query *cx_qp_parse(cx_qp *qp, const char *text, size_t len, unsigned flags, cx_error **err) {
    return guard(err, [&] { return new cx_query{qp->qp.parse_query(bytes(text, len), flags)}; });
}

char *cx_qp_corrected_query(cx_qp *qp, size_t *len, cx_error **err) {
    return guard(err, [&] { return buffer(qp->qp.get_corrected_query_string(), len); });
}

// ----------------------------------------------------- enquire and results

cx_facet_column *cx_facet_column_build(cx_db *db, uint32_t slot, cx_error **err) {
    return guard(err, [&] {
        const Xapian::Database &database = *db->db;
        auto data = new_column<FacetColumnData>(database, "facet");
        data->slot = slot;
        data->ordinals.assign(static_cast<size_t>(database.get_lastdocid()) + 1, 0);
        data->names.emplace_back();
        std::unordered_map<std::string, uint32_t> known;
        for (Xapian::ValueIterator it = database.valuestream_begin(slot); it != database.valuestream_end(slot); ++it) {
            std::string value = *it;
            auto found = known.find(value);
            if (found == known.end()) {
                found = known.emplace(value, static_cast<uint32_t>(data->names.size())).first;
                data->names.push_back(std::move(value));
            }
            data->ordinals[it.get_docid()] = found->second;
        }
        return new cx_facet_column{std::move(data)};
    });
}

void cx_facet_column_free(cx_facet_column *column) { delete column; }

bool cx_facet_column_fits(const cx_facet_column *column, cx_db *db, bool *out, cx_error **err) {
    return guard(err, [&] {
        *out = column_fits(*column->data, *db->db);
        return true;
    });
}

cx_length_column *cx_length_column_build(cx_db *db, cx_error **err) {
    return guard(err, [&] {
        const Xapian::Database &database = *db->db;
        auto data = new_column<LengthColumnData>(database, "length");
        data->documents = database.get_doccount();
        const size_t size = static_cast<size_t>(database.get_lastdocid()) + 1;
        data->lengths.assign(size, 0);
        data->exists.assign(size, false);
        // The "" posting list is every document with its length, in one pass.
        for (Xapian::PostingIterator it = database.postlist_begin(""); it != database.postlist_end(""); ++it) {
            const Xapian::termcount length = it.get_doclength();
            if (length < LengthColumnData::long_length) {
                data->lengths[*it] = static_cast<uint16_t>(length);
            } else {
                data->lengths[*it] = LengthColumnData::long_length;
                data->long_lengths.emplace(*it, length);
            }
            data->exists[*it] = true;
        }
        return new cx_length_column{std::move(data)};
    });
}

void cx_length_column_free(cx_length_column *column) { delete column; }

bool cx_length_column_fits(const cx_length_column *column, cx_db *db, bool *out, cx_error **err) {
    return guard(err, [&] {
        *out = column_fits(*column->data, *db->db);
        return true;
    });
}

bool cx_enquire_weigh_by_lengths(cx_enquire *enquire, const cx_length_column *column, bool *applied,
                                 cx_error **err) {
    return guard(err, [&] {
        const Xapian::Query query = enquire->enquire.get_query();
        *applied = !enquire->weighed_by_lengths && column_fits(*column->data, enquire->db) && weighable_by_lengths(query);
        if (!*applied) return true;
        auto position = std::make_shared<MatchPosition>();
        if (positional(query)) {
            // Into the AND the phrase filters, as a part weighing 0 that every
            // document matches: the AND has moved it to a candidate before the
            // phrase weighs that candidate. It counts as a matched part of the
            // query, which conjunctive() keeps from changing the percentages.
            Xapian::Query source((new MatchPositionSource(column->data, position, true))->release());
            enquire->enquire.set_query(Xapian::Query(Xapian::Query::OP_AND, query, source));
        } else {
            Xapian::Query source((new MatchPositionSource(column->data, position, false))->release());
            enquire->enquire.set_query(Xapian::Query(Xapian::Query::OP_AND_MAYBE, query,
                                                     Xapian::Query(Xapian::Query::OP_SCALE_WEIGHT, source, 0.0)));
        }
        enquire->enquire.set_weighting_scheme(ColumnBM25Weight(column->data, position));
        enquire->weighed_by_lengths = true;
        return true;
    });
}

cx_enquire *cx_enquire_new(cx_db *db, cx_error **err) {
    return guard(err, [&] { return new cx_enquire{Xapian::Enquire(*db->db), *db->db, {}}; });
}

void cx_enquire_free(cx_enquire *enquire) { delete enquire; }

bool cx_enquire_set_query(cx_enquire *enquire, const cx_query *query, cx_error **err) {
    return guard(err, [&] {
        enquire->enquire.set_query(query->q);
        if (enquire->weighed_by_lengths) {
            enquire->enquire.set_weighting_scheme(Xapian::BM25Weight());
            enquire->weighed_by_lengths = false;
        }
        return true;
    });
}

bool cx_enquire_set_sort_by_relevance_then_value(cx_enquire *enquire, uint32_t slot, bool reverse, cx_error **err) {
    return guard(err, [&] {
        enquire->enquire.set_sort_by_relevance_then_value(slot, reverse);
        return true;
    });
}

bool cx_enquire_set_sort_by_value(cx_enquire *enquire, uint32_t slot, bool reverse, cx_error **err) {
    return guard(err, [&] {
        enquire->enquire.set_sort_by_value_then_relevance(slot, reverse);
        return true;
    });
}

bool cx_enquire_set_sort_by_value_missing(cx_enquire *enquire, uint32_t slot, bool reverse,
                                          const char *missing, size_t len, cx_error **err) {
    return guard(err, [&] {
        auto keymaker = std::make_unique<Xapian::MultiValueKeyMaker>();
        keymaker->add_value(slot, reverse, bytes(missing, len));
        // The enquire keeps the released key maker alive by reference count.
        enquire->enquire.set_sort_by_key_then_relevance(keymaker.release()->release(), false);
        return true;
    });
}

bool cx_enquire_set_collapse_key(cx_enquire *enquire, uint32_t slot, uint32_t max, cx_error **err) {
    return guard(err, [&] {
        enquire->enquire.set_collapse_key(slot, max);
        return true;
    });
}

bool cx_enquire_set_time_limit(cx_enquire *enquire, double seconds, cx_error **err) {
    return guard(err, [&] {
        enquire->enquire.set_time_limit(seconds);
        return true;
    });
}

bool cx_enquire_add_facet(cx_enquire *enquire, uint32_t slot, const cx_facet_column *column, size_t *index,
                          cx_error **err) {
    return guard(err, [&] {
        enquire->spies.reserve(enquire->spies.size() + 1);
        Xapian::ValueCountMatchSpy *spy;
        if (column && column->data->slot == slot && column_fits(*column->data, enquire->db)) {
            spy = new ColumnValueCountSpy(column->data);
        } else {
            spy = new Xapian::ValueCountMatchSpy(slot);
        }
        enquire->enquire.add_matchspy(spy->release());
        *index = enquire->spies.size();
        enquire->spies.push_back(spy);
        return true;
    });
}

cx_termlist *cx_enquire_facet_values(cx_enquire *enquire, size_t index, size_t max, cx_error **err) {
    return guard(err, [&] {
        const Xapian::ValueCountMatchSpy &spy = facet(enquire, index, max);
        // top_values_begin() reserves `max` entries, so never ask for more than exist.
        const auto distinct = static_cast<size_t>(std::distance(spy.values_begin(), spy.values_end()));
        const size_t n = max ? std::min(max, distinct) : distinct;
        return collect(spy.top_values_begin(n), spy.top_values_end(n),
                       [](const Xapian::TermIterator &it) { return it.get_termfreq(); });
    });
}

bool cx_enquire_facet_total(cx_enquire *enquire, size_t index, uint64_t *out, cx_error **err) {
    return guard(err, [&] {
        // The total needs no values handed over.
        *out = facet(enquire, index).get_total();
        return true;
    });
}

cx_mset *cx_enquire_mset(cx_enquire *enquire, uint32_t offset, uint32_t limit, uint32_t checkatleast,
                         cx_error **err) {
    return guard(err, [&] { return new cx_mset{enquire->enquire.get_mset(offset, limit, checkatleast)}; });
}

// Each term's count is its expand weight scaled by 10^6 and rounded (weights are >= 0).
cx_termlist *cx_enquire_expand(cx_enquire *enquire, const cx_docid *docids, size_t count, size_t max,
                               cx_error **err) {
    return guard(err, [&] {
        Xapian::RSet rset;
        for (size_t i = 0; i < count; ++i) rset.add_document(docids[i]);
        const FreeTextOnly decider;
        const auto n = static_cast<Xapian::termcount>(std::min<size_t>(max, UINT32_MAX));
        const Xapian::ESet eset = enquire->enquire.get_eset(n, rset, &decider);
        auto list = std::make_unique<cx_termlist>();
        for (auto it = eset.begin(); it != eset.end(); ++it)
            list->items.emplace_back(*it, static_cast<uint64_t>(std::max(0.0, it.get_weight()) * 1e6 + 0.5));
        return list.release();
    });
}

void cx_mset_free(cx_mset *mset) { delete mset; }

uint32_t cx_mset_size(const cx_mset *mset) { return mset->mset.size(); }

bool cx_mset_counts(const cx_mset *mset, cx_match_counts *out, cx_error **err) {
    return guard(err, [&] {
        out->lower_bound = mset->mset.get_matches_lower_bound();
        out->estimated = mset->mset.get_matches_estimated();
        out->upper_bound = mset->mset.get_matches_upper_bound();
        return true;
    });
}

bool cx_mset_hit(const cx_mset *mset, uint32_t index, cx_hit *out, cx_error **err) {
    return guard(err, [&] {
        const Xapian::MSetIterator it = hit_at(mset, index);
        *out = cx_hit{*it, it.get_rank(), it.get_weight(), it.get_percent(), it.get_collapse_count()};
        return true;
    });
}

char *cx_mset_data(const cx_mset *mset, uint32_t index, size_t *len, cx_error **err) {
    return guard(err, [&] { return buffer(hit_at(mset, index).get_document().get_data(), len); });
}

char *cx_mset_value(const cx_mset *mset, uint32_t index, uint32_t slot, size_t *len, cx_error **err) {
    return guard(err, [&] { return buffer(hit_at(mset, index).get_document().get_value(slot), len); });
}

char *cx_mset_snippet(const cx_mset *mset, const char *text, size_t textlen, size_t length,
                      const char *language, unsigned flags, const char *hi_start, const char *hi_end,
                      const char *omit, size_t *len, cx_error **err) {
    return guard(err, [&] {
        return buffer(mset->mset.snippet(bytes(text, textlen), length, make_stem(language), flags,
                                         hi_start, hi_end, omit),
                      len);
    });
}

} // extern "C"
