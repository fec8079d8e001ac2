//! Catalogue search, the one implementation used by the server and offline by the phone:
//! how a citizen's query is understood, how procedures are indexed, and how they rank.
//!
//! - *Understanding a query* ([`Index::understand`]): [`fold`] (no diacritics, lowercase),
//!   then filler words and phrases ("làm", "xin", "cho con", "thủ tục") are marked as
//!   fillers (they never sink a result), run-together words are split against the
//!   catalogue's vocabulary ("dangky" → "dang ky"), and every word is matched with the
//!   common spelling variants folded together ([`variant`]: ki/ky, gi/d/r, tr/ch, s/x),
//!   with one-letter typos on words of four letters or more, as a prefix (typing in
//!   progress), as initials (a word without a vowel, "gplx", "lltp", "qsdd"), or as Telex
//!   typed without a Vietnamese keyboard ([`telex`]: "ddangw kys" → "dang ky").
//! - *The index* ([`Index::new`]): for each procedure its name, its aliases (the names
//!   citizens use, kept as data beside the procedure), its field's name and its code, as
//!   an inverted index from words (and initials of 2 to 5 consecutive words) to places.
//! - *Ranking*: coverage of the meaningful words of the query first (by the best
//!   quality each word found anywhere in the procedure), then how much a single name or
//!   alias covers, the words in order, how little of the name is left over, and the
//!   estimated filing popularity among equals.
//! - *No empty page*: when nothing covers the query well ([`Results::nearest`]), the
//!   nearest procedures are returned with the fields they belong to; when nothing matches
//!   at all, the most filed procedures and every field.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Deserialize;

use crate::text::fold;
use crate::wire::{FieldInfo, Procedure};

/// Coverage of the meaningful query words at or above which a procedure answers the query
/// (below it, the answer is marked [`Results::nearest`]).
pub const STRONG_COVERAGE: f32 = 0.75;
/// A result may cover this much less of the query than the best result and still be listed.
const COVERAGE_SPREAD: f32 = 0.34;
/// How many procedures a "nearest" answer lists at most.
const NEAREST_LIMIT: usize = 10;
/// How many fields an answer suggests at most (when nothing matched: every field).
const FIELD_LIMIT: usize = 3;
/// Longest query (in characters of its folded form) that is understood; the rest is cut.
pub const MAX_QUERY_CHARS: usize = 200;
/// Longest key kept by [`log_key`].
pub const MAX_LOG_KEY_CHARS: usize = 100;
/// At most this many words of a query are understood.
const MAX_QUERY_WORDS: usize = 12;

/// Filler phrases (folded, longest first): words that say how a citizen asks, not what
/// for. They are kept as fillers, which may add a little but never count against a result.
const FILLER_PHRASES: [&str; 18] = [
    "nhu the nao",
    "can nhung gi",
    "mat bao lau",
    "giay to gi",
    "bao nhieu tien",
    "thu tuc",
    "ho so",
    "cho con",
    "cho bo",
    "cho me",
    "cho vo",
    "cho chong",
    "o dau",
    "the nao",
    "bao lau",
    "huong dan",
    "ha noi",
    "truc tuyen",
];

/// Filler words (folded).
const FILLER_WORDS: [&str; 40] = [
    "lam", "xin", "cho", "con", "toi", "minh", "em", "a", "nhe", "voi", "di", "de", "thi", "la", "cua", "va", "o",
    "tai", "gi", "nao", "sao", "the", "nhu", "can", "muon", "phai", "duoc", "khong", "ko", "k", "cach", "viec",
    "online", "nop", "giup", "hoi", "ai", "nhanh", "mau", "hn",
];

/// How well a query word matched a word of a text, in `[0, 1]`.
const EXACT: f32 = 1.0;
const VARIANT: f32 = 0.95;
const INITIALS: f32 = 0.95;
const TYPO: f32 = 0.8;

/// The kind of a text of a procedure and how much a match in it is worth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TextKind {
    Name,
    Alias,
    Field,
    Code,
}

impl TextKind {
    fn weight(self) -> f32 {
        match self {
            TextKind::Name | TextKind::Alias | TextKind::Code => 1.0,
            TextKind::Field => 0.6,
        }
    }
}

/// What the index needs to know of a procedure.
#[derive(Debug, Clone, Copy)]
pub struct SearchDoc<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub field: &'a str,
    pub aliases: &'a [String],
    /// Estimated share of filings, 0 to 100 (see [`Procedure::popularity`]).
    pub popularity: u32,
}

impl<'a> From<&'a Procedure> for SearchDoc<'a> {
    fn from(p: &'a Procedure) -> Self {
        SearchDoc { code: &p.code, name: &p.name, field: &p.field, aliases: &p.aliases, popularity: p.popularity }
    }
}

#[derive(Debug)]
struct Doc {
    code: String,
    field: String,
    name_folded: String,
    popularity: u32,
}

#[derive(Debug)]
struct Text {
    doc: usize,
    kind: TextKind,
    len: usize,
}

/// One place a word occurs: a text and the position of the word in it.
#[derive(Debug, Clone, Copy)]
struct Place {
    text: u32,
    pos: u16,
}

/// The search index over a catalogue.
#[derive(Debug, Default)]
pub struct Index {
    docs: Vec<Doc>,
    texts: Vec<Text>,
    /// Vocabulary, sorted (for prefixes), each word with its places.
    words: Vec<String>,
    places: Vec<Vec<Place>>,
    by_word: HashMap<String, u32>,
    /// Word ids by spelling variant.
    by_variant: HashMap<String, Vec<u32>>,
    /// Word ids by length (for one-letter typos).
    by_len: Vec<Vec<u32>>,
    /// Initials of 2 to 5 consecutive words → places of the first word.
    initials: HashMap<String, Vec<Place>>,
    fields: Vec<FieldInfo>,
    /// Documents most filed first (ties by name, then code), and each document's rank.
    by_rank: Vec<usize>,
    rank: Vec<u32>,
}

/// What a search found: positions (in the order the index was built from) best first.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Results {
    pub hits: Vec<usize>,
    /// Nothing covered the query well: `hits` are the nearest procedures.
    pub nearest: bool,
    /// Codes of the fields to suggest: those of the best hits (every field when nothing
    /// matched at all); empty for an empty query.
    pub fields: Vec<String>,
}

/// One understood word of a query.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryWord {
    /// The folded word (after splitting run-together words).
    pub word: String,
    /// A filler ("làm", "xin", "cho con"...): never counts against a result.
    pub filler: bool,
}

/// The spelling-variant key of a folded word: common confusions in how Vietnamese is
/// typed fold together. Initial gi/d/r → d, tr → ch, s → x, ngh → ng, gh → g, f → ph,
/// j → gi (→ d), z → d; a final y after a consonant → i (ky/ki, ly/li, my/mi).
pub fn variant(word: &str) -> String {
    let mut w = word.to_owned();
    for (from, to) in [("ngh", "ng"), ("gh", "g"), ("gi", "d"), ("tr", "ch"), ("r", "d"), ("s", "x"), ("f", "ph")] {
        if let Some(rest) = w.strip_prefix(from) {
            // "gi" alone (gì) stays a word; "gi" before a vowel is the consonant.
            if from == "gi" && rest.is_empty() {
                break;
            }
            w = format!("{to}{rest}");
            break;
        }
    }
    if let Some(rest) = w.strip_prefix('j').or_else(|| w.strip_prefix('z')) {
        w = format!("d{rest}");
    }
    let bytes = w.as_bytes();
    if bytes.len() >= 2 && bytes[bytes.len() - 1] == b'y' && !is_vowel(bytes[bytes.len() - 2]) {
        w.pop();
        w.push('i');
    }
    w
}

/// A word typed with Telex keys but no Vietnamese keyboard ("ddaangs", "truwowngf",
/// "kys"), read as the plain letters: the tone key at the end dropped (s, f, r, x, j),
/// dd → d, aa/aw → a, ee → e, oo/ow → o, uw → u, any other w dropped. `None` when nothing
/// changes.
pub fn telex(word: &str) -> Option<String> {
    let mut w = word.to_owned();
    if w.len() >= 3 && w.ends_with(['s', 'f', 'r', 'x', 'j']) && has_vowel(&w[..w.len() - 1]) {
        w.pop();
    }
    for (from, to) in [("dd", "d"), ("aa", "a"), ("aw", "a"), ("ee", "e"), ("oo", "o"), ("ow", "o"), ("uw", "u")] {
        w = w.replace(from, to);
    }
    // A w typed after the syllable ("dangw" for "dăng"): Vietnamese has no w.
    w.retain(|c| c != 'w');
    (w != word).then_some(w)
}

fn is_vowel(b: u8) -> bool {
    matches!(b, b'a' | b'e' | b'i' | b'o' | b'u' | b'y')
}

fn has_vowel(w: &str) -> bool {
    w.bytes().any(is_vowel)
}

/// Whether `a` and `b` differ by exactly one edit (substitution, insertion, deletion, or a
/// swap of two neighbouring letters).
fn one_edit(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a == b || a.len().abs_diff(b.len()) > 1 {
        return false;
    }
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let (ra, rb) = (&a[prefix..], &b[prefix..]);
    match ra.len().cmp(&rb.len()) {
        std::cmp::Ordering::Equal => {
            ra[1..] == rb[1..] || (ra.len() >= 2 && ra[0] == rb[1] && ra[1] == rb[0] && ra[2..] == rb[2..])
        }
        std::cmp::Ordering::Less => ra == &rb[1..],
        std::cmp::Ordering::Greater => &ra[1..] == rb,
    }
}

/// The key under which a query is counted for operators: folded, words carrying five
/// digits or more (an ID or phone number typed by mistake) replaced by `#`, at most
/// [`MAX_LOG_KEY_CHARS`] characters cut at a word. `None` for an empty query.
pub fn log_key(query: &str) -> Option<String> {
    let folded = fold(query);
    let mut key = String::new();
    for word in folded.split(' ').filter(|w| !w.is_empty()) {
        let word = if word.bytes().filter(u8::is_ascii_digit).count() >= 5 { "#" } else { word };
        if key.len() + 1 + word.len() > MAX_LOG_KEY_CHARS {
            break;
        }
        if !key.is_empty() {
            key.push(' ');
        }
        key.push_str(word);
    }
    (!key.is_empty()).then_some(key)
}

/// The folded words of `s`.
fn words_of(s: &str) -> Vec<String> {
    fold(s).split(' ').filter(|w| !w.is_empty()).map(str::to_owned).collect()
}

impl Index {
    /// Indexes `docs` (hits are positions in this order) and the catalogue's `fields`.
    pub fn new<'a>(docs: impl IntoIterator<Item = SearchDoc<'a>>, fields: &[FieldInfo]) -> Index {
        let field_names: HashMap<&str, &str> = fields.iter().map(|f| (f.code.as_str(), f.name.as_str())).collect();
        let mut index = Index { fields: fields.to_vec(), ..Index::default() };
        let mut word_places: HashMap<String, Vec<Place>> = HashMap::new();
        for (d, doc) in docs.into_iter().enumerate() {
            let mut texts: Vec<(TextKind, &str)> = vec![(TextKind::Name, doc.name)];
            texts.extend(doc.aliases.iter().map(|a| (TextKind::Alias, a.as_str())));
            if let Some(name) = field_names.get(doc.field) {
                texts.push((TextKind::Field, name));
            }
            texts.push((TextKind::Code, doc.code));
            for (kind, text) in texts {
                let words = words_of(text);
                if words.is_empty() {
                    continue;
                }
                let t = u32::try_from(index.texts.len()).unwrap_or(u32::MAX);
                for (pos, w) in words.iter().enumerate() {
                    let place = Place { text: t, pos: u16::try_from(pos).unwrap_or(u16::MAX) };
                    word_places.entry(w.clone()).or_default().push(place);
                    if kind != TextKind::Code {
                        for n in 2..=5.min(words.len() - pos) {
                            let initials: String =
                                words[pos..pos + n].iter().filter_map(|w| w.chars().next()).collect();
                            index.initials.entry(initials).or_default().push(place);
                        }
                    }
                }
                index.texts.push(Text { doc: d, kind, len: words.len() });
            }
            index.docs.push(Doc {
                code: doc.code.to_owned(),
                field: doc.field.to_owned(),
                name_folded: fold(doc.name),
                popularity: doc.popularity.min(100),
            });
        }
        let mut vocabulary: Vec<(String, Vec<Place>)> = word_places.into_iter().collect();
        vocabulary.sort_by(|a, b| a.0.cmp(&b.0));
        for (id, (word, places)) in vocabulary.into_iter().enumerate() {
            let id = u32::try_from(id).unwrap_or(u32::MAX);
            index.by_variant.entry(variant(&word)).or_default().push(id);
            if index.by_len.len() <= word.len() {
                index.by_len.resize(word.len() + 1, Vec::new());
            }
            index.by_len[word.len()].push(id);
            index.by_word.insert(word.clone(), id);
            index.words.push(word);
            index.places.push(places);
        }
        let mut by_rank: Vec<usize> = (0..index.docs.len()).collect();
        by_rank.sort_by(|&a, &b| {
            let (a, b) = (&index.docs[a], &index.docs[b]);
            b.popularity
                .cmp(&a.popularity)
                .then_with(|| a.name_folded.cmp(&b.name_folded))
                .then_with(|| a.code.cmp(&b.code))
        });
        index.rank = vec![0; by_rank.len()];
        for (r, &d) in by_rank.iter().enumerate() {
            index.rank[d] = u32::try_from(r).unwrap_or(u32::MAX);
        }
        index.by_rank = by_rank;
        index
    }

    /// Number of indexed procedures.
    pub fn len(&self) -> usize {
        self.docs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.docs.is_empty()
    }

    /// The code of the procedure at `position`.
    pub fn code(&self, position: usize) -> Option<&str> {
        self.docs.get(position).map(|d| d.code.as_str())
    }

    fn known(&self, w: &str) -> bool {
        self.by_word.contains_key(w) || self.by_variant.contains_key(&variant(w))
    }

    /// Splits a word the catalogue does not know into the fewest known words of two
    /// letters or more ("dangky" → "dang", "ky"); `None` when it cannot.
    fn split(&self, w: &str) -> Option<Vec<String>> {
        let n = w.len();
        if n < 4 || !w.is_ascii() {
            return None;
        }
        // best[i]: fewest pieces covering w[..i], with the start of the last piece.
        let mut best: Vec<Option<(usize, usize)>> = vec![None; n + 1];
        best[0] = Some((0, 0));
        for end in 2..=n {
            for start in (0..=end - 2).rev().take(7) {
                if let Some((count, _)) = best[start]
                    && self.known(&w[start..end])
                    && best[end].is_none_or(|(c, _)| count + 1 < c)
                {
                    best[end] = Some((count + 1, start));
                }
            }
        }
        let (count, _) = best[n]?;
        if count < 2 {
            return None;
        }
        let mut pieces = Vec::with_capacity(count);
        let mut end = n;
        while end > 0 {
            let (_, start) = best[end]?;
            pieces.push(w[start..end].to_owned());
            end = start;
        }
        pieces.reverse();
        Some(pieces)
    }

    /// The words of a query as the search understands them: folded, run-together words
    /// split, fillers marked (every word counts when all of them are fillers).
    pub fn understand(&self, query: &str) -> Vec<QueryWord> {
        let folded: String = fold(query).chars().take(MAX_QUERY_CHARS).collect();
        let mut raw: Vec<String> = Vec::new();
        for w in folded.split(' ').filter(|w| !w.is_empty()) {
            match (self.known(w), has_vowel(w)) {
                (false, true) => match (telex(w).filter(|t| self.known(t)), self.split(w)) {
                    (Some(plain), _) => raw.push(plain),
                    (None, Some(pieces)) => raw.extend(pieces),
                    (None, None) => raw.push(w.to_owned()),
                },
                _ => raw.push(w.to_owned()),
            }
        }
        raw.truncate(MAX_QUERY_WORDS);
        let mut filler = vec![false; raw.len()];
        for phrase in FILLER_PHRASES {
            let p: Vec<&str> = phrase.split(' ').collect();
            for start in 0..raw.len().saturating_sub(p.len() - 1) {
                if raw[start..start + p.len()].iter().zip(&p).all(|(a, b)| a == b) {
                    filler[start..start + p.len()].iter_mut().for_each(|f| *f = true);
                }
            }
        }
        for (i, w) in raw.iter().enumerate() {
            if FILLER_WORDS.contains(&w.as_str()) {
                filler[i] = true;
            }
        }
        if filler.iter().all(|f| *f) {
            filler.iter_mut().for_each(|f| *f = false);
        }
        raw.into_iter().zip(filler).map(|(word, filler)| QueryWord { word, filler }).collect()
    }

    /// The places a query word matches, each with the quality of the match.
    fn expand(&self, w: &str, last: bool) -> Vec<(f32, &[Place])> {
        let mut out: Vec<(f32, &[Place])> = Vec::new();
        let mut seen: HashSet<u32> = HashSet::new();
        if let Some(&id) = self.by_word.get(w) {
            seen.insert(id);
            out.push((EXACT, &self.places[id as usize]));
        }
        if let Some(ids) = self.by_variant.get(&variant(w)) {
            for &id in ids {
                if seen.insert(id) {
                    out.push((VARIANT, &self.places[id as usize]));
                }
            }
        }
        if !has_vowel(w) && w.len() >= 2 {
            if let Some(places) = self.initials.get(w) {
                out.push((INITIALS, places));
            }
        } else if out.is_empty() && w.len() >= 4 {
            for len in w.len() - 1..=w.len() + 1 {
                for &id in self.by_len.get(len).map(Vec::as_slice).unwrap_or_default() {
                    if one_edit(w, &self.words[id as usize]) && seen.insert(id) {
                        out.push((TYPO, &self.places[id as usize]));
                    }
                }
            }
        }
        // A prefix: typing in progress (the last word unless it is a whole word of two
        // letters, or a word of two letters or more that matched nothing as a whole).
        if (last && (out.is_empty() || w.len() >= 3)) || (out.is_empty() && w.len() >= 2) {
            let start = self.words.partition_point(|x| x.as_str() < w);
            for (offset, word) in self.words[start..].iter().enumerate() {
                if !word.starts_with(w) {
                    break;
                }
                let id = u32::try_from(start + offset).unwrap_or(u32::MAX);
                if seen.insert(id) {
                    let ratio = w.len() as f32 / word.len() as f32;
                    out.push((0.6 + 0.3 * ratio, &self.places[id as usize]));
                }
            }
        }
        out
    }

    /// Searches the catalogue (only procedures of `field` when given). An empty query lists
    /// every procedure, most filed first.
    pub fn search(&self, query: &str, field: Option<&str>) -> Results {
        self.search_top(query, field, usize::MAX)
    }

    /// [`Index::search`] keeping only the first `limit` hits (cheaper than ranking all).
    pub fn search_top(&self, query: &str, field: Option<&str>, limit: usize) -> Results {
        let in_field = |d: usize| field.is_none_or(|f| self.docs[d].field == f);
        let words = self.understand(query);
        if words.is_empty() {
            let hits = self.by_rank.iter().copied().filter(|&d| in_field(d)).take(limit).collect();
            return Results { hits, nearest: false, fields: Vec::new() };
        }
        let qn = words.len();
        // Per touched text, the best match of each query word: acc[slot * qn + i] holds
        // (quality, position). Flat arrays, no allocation per text.
        let mut slot_of: Vec<u32> = vec![u32::MAX; self.texts.len()];
        let mut touched: Vec<u32> = Vec::new();
        let mut acc: Vec<(f32, u16)> = Vec::new();
        for (i, qw) in words.iter().enumerate() {
            for (q, places) in self.expand(&qw.word, i + 1 == qn) {
                for place in places {
                    let t = place.text as usize;
                    if field.is_some() && !in_field(self.texts[t].doc) {
                        continue;
                    }
                    if slot_of[t] == u32::MAX {
                        slot_of[t] = u32::try_from(touched.len()).unwrap_or(u32::MAX);
                        touched.push(place.text);
                        acc.resize(acc.len() + qn, (0.0, 0));
                    }
                    let e = &mut acc[slot_of[t] as usize * qn + i];
                    if q > e.0 {
                        *e = (q, place.pos);
                    }
                }
            }
        }
        let meaningful: f32 = words.iter().filter(|w| !w.filler).count() as f32;
        let fillers = words.iter().filter(|w| w.filler).count() as f32;
        // Per document: union of best qualities (flat, qn per document), plus the best
        // single text.
        let mut doc_slot: Vec<u32> = vec![u32::MAX; self.docs.len()];
        let mut per_doc: Vec<Scored> = Vec::new();
        let mut union: Vec<f32> = Vec::new();
        for (slot, &t) in touched.iter().enumerate() {
            let qs = &acc[slot * qn..(slot + 1) * qn];
            let text = &self.texts[t as usize];
            let weight = text.kind.weight();
            if doc_slot[text.doc] == u32::MAX {
                doc_slot[text.doc] = u32::try_from(per_doc.len()).unwrap_or(u32::MAX);
                per_doc.push(Scored { doc: text.doc, single: 0.0, in_order: 0.0, precision: 0.0 });
                union.resize(union.len() + qn, 0.0);
            }
            let ds = doc_slot[text.doc] as usize;
            let entry = &mut per_doc[ds];
            let mut covered = 0.0;
            let mut matched = 0;
            let mut adjacent = 0;
            let mut previous: Option<u16> = None;
            for (i, &(q, pos)) in qs.iter().enumerate() {
                let q = q * weight;
                let u = &mut union[ds * qn + i];
                if q > *u {
                    *u = q;
                }
                if q > 0.0 {
                    matched += 1;
                    if !words[i].filler {
                        covered += q;
                        // Words in query order at neighbouring positions.
                        if previous.is_some_and(|p| pos == p + 1) {
                            adjacent += 1;
                        }
                        previous = Some(pos);
                    }
                }
            }
            let single = covered / meaningful;
            let in_order = adjacent as f32 / (meaningful - 1.0).max(1.0);
            let precision = matched.min(text.len) as f32 / text.len as f32;
            if single > entry.single + 1e-6 || ((single - entry.single).abs() <= 1e-6 && precision > entry.precision) {
                entry.single = single;
                entry.precision = precision;
            }
            entry.in_order = entry.in_order.max(in_order * weight);
        }
        let mut scored: Vec<(usize, f32, f32)> = per_doc
            .iter()
            .enumerate()
            .map(|(ds, s)| {
                let u = &union[ds * qn..(ds + 1) * qn];
                let coverage: f32 =
                    words.iter().zip(u).filter(|(w, _)| !w.filler).map(|(_, q)| q).sum::<f32>() / meaningful;
                let filler_cover: f32 = if fillers > 0.0 {
                    words.iter().zip(u).filter(|(w, _)| w.filler).map(|(_, q)| q).sum::<f32>() / fillers
                } else {
                    0.0
                };
                let popularity = self.docs[s.doc].popularity as f32 / 100.0;
                let score = 100.0 * coverage
                    + 20.0 * s.single
                    + 5.0 * s.in_order
                    + 5.0 * s.precision
                    + 2.0 * filler_cover
                    + 8.0 * popularity;
                (s.doc, coverage, score)
            })
            .filter(|(_, coverage, _)| *coverage > 0.0)
            .collect();
        let best = scored.iter().map(|s| s.1).fold(0.0_f32, f32::max);
        if scored.is_empty() {
            let hits = self.by_rank.iter().copied().filter(|&d| in_field(d)).take(NEAREST_LIMIT.min(limit)).collect();
            let fields = self.fields.iter().filter(|f| field.is_none_or(|c| c == f.code)).map(|f| f.code.clone());
            return Results { hits, nearest: true, fields: fields.collect() };
        }
        let nearest = best < STRONG_COVERAGE;
        scored.retain(|s| s.1 >= best - COVERAGE_SPREAD - 1e-6);
        let order = |a: &(usize, f32, f32), b: &(usize, f32, f32)| {
            b.2.total_cmp(&a.2).then_with(|| self.rank[a.0].cmp(&self.rank[b.0]))
        };
        let keep = if nearest { NEAREST_LIMIT.min(limit) } else { limit };
        if keep == 0 {
            scored.clear();
        } else if keep < scored.len() {
            scored.select_nth_unstable_by(keep - 1, order);
            scored.truncate(keep);
        }
        scored.sort_unstable_by(order);
        let hits: Vec<usize> = scored.iter().map(|s| s.0).collect();
        let mut fields: Vec<String> = Vec::new();
        for &d in &hits {
            if fields.len() < FIELD_LIMIT && !fields.contains(&self.docs[d].field) {
                fields.push(self.docs[d].field.clone());
            }
        }
        Results { hits, nearest, fields }
    }
}

/// Bounds of search data (aliases are searched on every phone).
pub const MAX_ALIASES: usize = 40;
pub const MAX_ALIAS_CHARS: usize = 100;

/// The search data kept beside the catalogue (`server/seed/search.json`): per procedure
/// code, the names citizens use and an estimated filing popularity (0 to 100).
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchData {
    /// What the file is (free text for its reviewers).
    #[serde(default)]
    pub about: String,
    pub procedures: BTreeMap<String, SearchEntry>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchEntry {
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub popularity: u32,
}

impl SearchData {
    /// Puts each entry's aliases (added to any the procedure has) and popularity on its
    /// procedure, and checks the bounds of every procedure's search data. An entry for an
    /// unknown code is an error.
    pub fn apply(self, procedures: &mut [Procedure]) -> Result<(), String> {
        let mut entries = self.procedures;
        for p in procedures.iter_mut() {
            if let Some(entry) = entries.remove(&p.code) {
                for alias in entry.aliases {
                    if !p.aliases.contains(&alias) {
                        p.aliases.push(alias);
                    }
                }
                p.popularity = entry.popularity;
            }
            if p.popularity > 100 {
                return Err(format!("procedure {}: popularity above 100", p.code));
            }
            if p.aliases.len() > MAX_ALIASES {
                return Err(format!("procedure {}: more than {MAX_ALIASES} aliases", p.code));
            }
            if let Some(bad) = p.aliases.iter().find(|a| fold(a).is_empty() || a.chars().count() > MAX_ALIAS_CHARS) {
                return Err(format!(
                    "procedure {}: alias {bad:?} is empty or longer than {MAX_ALIAS_CHARS} characters",
                    p.code
                ));
            }
        }
        match entries.keys().next() {
            Some(code) => Err(format!("unknown procedure {code}")),
            None => Ok(()),
        }
    }
}

/// One query of an evaluation set and the codes that answer it.
#[derive(Debug, Clone, Deserialize)]
pub struct LabelledQuery {
    pub q: String,
    pub expect: Vec<String>,
}

/// An evaluation set of queries (`{"about": ..., "queries": [{"q", "expect"}]}`).
#[derive(Debug, Clone, Deserialize)]
pub struct QuerySet {
    #[serde(default)]
    pub about: String,
    pub queries: Vec<LabelledQuery>,
}

/// How well search answers a set of labelled queries.
#[derive(Debug, Clone, PartialEq)]
pub struct Quality {
    /// Share of queries with an expected code in the first three results.
    pub recall_at_3: f64,
    /// Mean over queries of 1 / rank of the first expected code (0 when absent).
    pub mrr: f64,
    /// The queries without an expected code in the first three, with the codes found.
    pub misses: Vec<(String, Vec<String>)>,
}

/// Measures `index` on `queries`.
pub fn quality(index: &Index, queries: &[LabelledQuery]) -> Quality {
    let (mut hits, mut rr, mut misses) = (0_usize, 0.0_f64, Vec::new());
    for lq in queries {
        let codes: Vec<&str> = index.search(&lq.q, None).hits.iter().filter_map(|&h| index.code(h)).collect();
        let rank = codes.iter().position(|c| lq.expect.iter().any(|e| e == c));
        if let Some(r) = rank {
            rr += 1.0 / (r + 1) as f64;
        }
        if rank.is_some_and(|r| r < 3) {
            hits += 1;
        } else {
            misses.push((lq.q.clone(), codes.iter().take(3).map(|c| (*c).to_owned()).collect()));
        }
    }
    let n = queries.len().max(1) as f64;
    Quality { recall_at_3: hits as f64 / n, mrr: rr / n, misses }
}

/// Scores gathered for one document (its union of word qualities is kept apart).
struct Scored {
    doc: usize,
    single: f32,
    in_order: f32,
    precision: f32,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Code, name, field, aliases, popularity.
    type FixtureDoc = (&'static str, &'static str, &'static str, Vec<String>, u32);

    fn fixture() -> (Vec<FixtureDoc>, Vec<FieldInfo>) {
        let alias = |a: &[&str]| a.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let docs = vec![
            ("1.001193", "Đăng ký khai sinh", "ho_tich", alias(&["giấy khai sinh", "làm khai sinh"]), 90),
            ("1.000894", "Đăng ký kết hôn", "ho_tich", alias(&["giấy đăng ký kết hôn", "cưới"]), 60),
            ("1.001695", "Đăng ký kết hôn có yếu tố nước ngoài", "ho_tich", alias(&["lấy vợ nước ngoài"]), 10),
            ("1.004873", "Cấp Giấy xác nhận tình trạng hôn nhân", "ho_tich", alias(&["xác nhận độc thân"]), 50),
            ("1.012783", "Cấp lại Giấy chứng nhận quyền sử dụng đất do bị mất", "dat_dai", alias(&["mất sổ đỏ"]), 20),
            (
                "1.012780",
                "Đăng ký đất đai, cấp Giấy chứng nhận lần đầu",
                "dat_dai",
                alias(&["làm sổ đỏ", "sổ hồng"]),
                45,
            ),
            ("1.002804", "Đổi giấy phép lái xe", "giao_thong", alias(&["đổi bằng lái"]), 55),
            ("1.004831", "Chuyển trường đối với học sinh trung học cơ sở", "giao_duc", Vec::new(), 15),
        ];
        let fields = vec![
            FieldInfo {
                code: "ho_tich".into(), name: "Tư pháp - Hộ tịch".into(), name_en: "Civil status".into()
            },
            FieldInfo { code: "dat_dai".into(), name: "Đất đai".into(), name_en: "Land".into() },
            FieldInfo {
                code: "giao_thong".into(), name: "Giao thông vận tải".into(), name_en: "Transport".into()
            },
            FieldInfo {
                code: "giao_duc".into(), name: "Giáo dục và Đào tạo".into(), name_en: "Education".into()
            },
        ];
        (docs, fields)
    }

    fn index() -> (Index, Vec<&'static str>) {
        let (docs, fields) = fixture();
        let codes = docs.iter().map(|d| d.0).collect();
        let index = Index::new(
            docs.iter().map(|(code, name, field, aliases, popularity)| SearchDoc {
                code,
                name,
                field,
                aliases,
                popularity: *popularity,
            }),
            &fields,
        );
        (index, codes)
    }

    fn top(index: &Index, codes: &[&'static str], q: &str) -> Vec<&'static str> {
        index.search(q, None).hits.iter().map(|&h| codes[h]).collect()
    }

    #[test]
    fn spelling_variants_fold_together() {
        let same = [("ky", "ki"), ("ly", "li"), ("giay", "day"), ("rut", "dut"), ("truong", "chuong"), ("so", "xo")];
        for (a, b) in same {
            assert_eq!(variant(a), variant(b), "{a} ~ {b}");
        }
        let differ = [("quy", "qui"), ("hay", "hai"), ("gi", "di"), ("khai", "hai")];
        for (a, b) in differ {
            assert_ne!(variant(a), variant(b), "{a} !~ {b}");
        }
    }

    #[test]
    fn one_edit_distance() {
        let cases = [
            ("khai", "khia", true),
            ("sinh", "sinhh", true),
            ("sinh", "sih", true),
            ("sinh", "sanh", true),
            ("sinh", "sinh", false),
            ("sinh", "snih", true),
            ("sinh", "shin", false),
            ("ket", "kethon", false),
        ];
        for (a, b, want) in cases {
            assert_eq!(one_edit(a, b), want, "{a} {b}");
        }
    }

    #[test]
    fn understands_queries() {
        let (index, _) = index();
        let cases: [(&str, &[&str], &[bool]); 8] = [
            ("dangky khaisinh", &["dang", "ky", "khai", "sinh"], &[false; 4]),
            ("ddaangw kys khai sinh", &["dang", "ky", "khai", "sinh"], &[false; 4]),
            ("keets hoon", &["ket", "hon"], &[false; 2]),
            ("sodo", &["so", "do"], &[false; 2]),
            (
                "Làm giấy khai sinh cho con",
                &["lam", "giay", "khai", "sinh", "cho", "con"],
                &[true, false, false, false, true, true],
            ),
            ("thủ tục kết hôn", &["thu", "tuc", "ket", "hon"], &[true, true, false, false]),
            ("xin cho", &["xin", "cho"], &[false, false]),
            ("gplx", &["gplx"], &[false]),
        ];
        for (q, want, filler) in cases {
            let got = index.understand(q);
            assert_eq!(got.iter().map(|w| w.word.as_str()).collect::<Vec<_>>(), want, "{q}");
            assert_eq!(got.iter().map(|w| w.filler).collect::<Vec<_>>(), filler, "{q}");
        }
    }

    #[test]
    fn ranks_what_citizens_type() {
        let (index, codes) = index();
        let cases = [
            ("dang ky khai sinh", "1.001193"),
            ("giay khai sinh", "1.001193"),
            ("lam giay khai sinh cho con", "1.001193"),
            ("dangky khaisinh", "1.001193"),
            ("dang ki khai sinh", "1.001193"),
            ("khia sinh", "1.001193"),
            ("kha si", "1.001193"),
            ("dang ky ket hon", "1.000894"),
            ("lay vo nuoc ngoai", "1.001695"),
            ("xac nhan doc than", "1.004873"),
            ("so do", "1.012780"),
            ("mat so do", "1.012783"),
            ("doi bang lai", "1.002804"),
            ("gplx", "1.002804"),
            ("1.002804", "1.002804"),
            ("chuyen truong", "1.004831"),
            ("truong", "1.004831"),
        ];
        for (q, want) in cases {
            let got = top(&index, &codes, q);
            assert_eq!(got.first(), Some(&want), "{q}: {got:?}");
            assert!(!index.search(q, None).nearest, "{q}");
        }
    }

    #[test]
    fn full_coverage_beats_a_shared_short_word_and_popularity_breaks_ties() {
        let (index, codes) = index();
        // "so do": only the land procedures know both words.
        let got = top(&index, &codes, "so do");
        assert_eq!(&got[..2], ["1.012780", "1.012783"], "{got:?}");
        // Both cover "dang ky": the most filed first.
        let got = top(&index, &codes, "dang ky");
        assert_eq!(got.first(), Some(&"1.001193"), "{got:?}");
        // Fillers do not sink a result.
        assert_eq!(top(&index, &codes, "thu tuc ket hon nhu the nao").first(), Some(&"1.000894"));
    }

    #[test]
    fn no_empty_page() {
        let (index, codes) = index();
        let nothing = index.search("xyzzy", None);
        assert!(nothing.nearest);
        assert_eq!(codes[nothing.hits[0]], "1.001193", "most filed first");
        assert_eq!(nothing.fields.len(), 4, "every field");
        let partial = index.search("giay phep xay nha", None);
        assert!(partial.nearest, "{partial:?}");
        assert!(!partial.hits.is_empty());
        assert!(!partial.fields.is_empty());
        let in_field = index.search("xyzzy", Some("dat_dai"));
        assert!(in_field.hits.iter().all(|&h| codes[h].starts_with("1.01278")));
        assert_eq!(in_field.fields, ["dat_dai"]);
    }

    #[test]
    fn empty_query_lists_everything_by_popularity() {
        let (index, codes) = index();
        let all = index.search("  ", None);
        assert_eq!(all.hits.len(), codes.len());
        assert_eq!(codes[all.hits[0]], "1.001193");
        let land = index.search("", Some("dat_dai"));
        assert_eq!(land.hits.iter().map(|&h| codes[h]).collect::<Vec<_>>(), ["1.012780", "1.012783"]);
    }

    #[test]
    fn log_keys_carry_no_numbers_and_are_capped() {
        assert_eq!(log_key("  Sổ Đỏ! ").as_deref(), Some("so do"));
        assert_eq!(log_key("khai sinh 001203004567").as_deref(), Some("khai sinh #"));
        assert_eq!(log_key("0912345678").as_deref(), Some("#"));
        assert_eq!(log_key("1.001193").as_deref(), Some("1 #"));
        assert_eq!(log_key(" ?! "), None);
        let long = "dang ky ".repeat(40);
        let key = log_key(&long).unwrap();
        assert!(
            key.len() <= MAX_LOG_KEY_CHARS && key.len() > 90 && fold(&long).starts_with(&format!("{key} ")),
            "{key}"
        );
    }

    #[test]
    fn quality_counts_hits_in_the_first_three_and_reciprocal_ranks() {
        let (index, _) = index();
        let lq = |q: &str, e: &str| LabelledQuery { q: q.to_owned(), expect: vec![e.to_owned()] };
        // "dang ky": khai sinh first, kết hôn second; "xyzzy" finds only the most filed.
        let set = [lq("dang ky", "1.001193"), lq("dang ky", "1.000894"), lq("xyzzy", "1.004831")];
        let q = quality(&index, &set);
        assert!((q.recall_at_3 - 2.0 / 3.0).abs() < 1e-9, "{q:?}");
        assert!(q.mrr > 0.5 && q.mrr < 0.6, "(1 + 1/2 + 1/r) / 3 with r ≥ 6: {q:?}");
        assert_eq!(q.misses.len(), 1);
    }

    #[test]
    fn search_data_merges_into_procedures_and_is_checked() {
        let procedure = |code: &str| -> Procedure {
            serde_json::from_value(serde_json::json!({"code": code, "name": "Đổi giấy phép lái xe", "name_en": "x",
                "field": "gt", "agency": "CA", "processing_days": 5, "fee_vnd": 0, "online_level": "full",
                "boundary_free": true, "required_documents": [], "form": {"version": 1, "fields": []},
                "aliases": ["bằng lái"]}))
            .unwrap()
        };
        let data = |json: &str| -> SearchData { serde_json::from_str(json).unwrap() };
        let mut ps = vec![procedure("1"), procedure("2")];
        data(r#"{"procedures": {"1": {"aliases": ["GPLX", "bằng lái"], "popularity": 40}}}"#).apply(&mut ps).unwrap();
        assert_eq!(ps[0].aliases, ["bằng lái", "GPLX"]);
        assert_eq!((ps[0].popularity, ps[1].popularity), (40, 0));
        let bad = [
            r#"{"procedures": {"3": {"aliases": ["x"]}}}"#,
            r#"{"procedures": {"1": {"popularity": 101}}}"#,
            r#"{"procedures": {"1": {"aliases": [" -- "]}}}"#,
        ];
        for json in bad {
            assert!(data(json).apply(&mut [procedure("1")]).is_err(), "{json}");
        }
        let aliases: Vec<String> = (0..=MAX_ALIASES).map(|i| format!("\"tên {i}\"")).collect();
        let many = format!(r#"{{"procedures": {{"1": {{"aliases": [{}]}}}}}}"#, aliases.join(","));
        assert!(data(&many).apply(&mut [procedure("1")]).is_err());
    }

    proptest::proptest! {
        /// Any text at all is answered without a panic, within the catalogue, and never
        /// with an empty page when the catalogue is not empty.
        #[test]
        fn any_query_is_answered(q in "\\PC{0,300}", field in proptest::option::of("[a-z_]{0,10}")) {
            let (index, codes) = index();
            let results = index.search(&q, None);
            proptest::prop_assert!(results.hits.iter().all(|&h| h < codes.len()));
            proptest::prop_assert!(!results.hits.is_empty());
            let in_field = index.search(&q, field.as_deref());
            proptest::prop_assert!(in_field.hits.len() <= codes.len());
            proptest::prop_assert!(log_key(&q).is_none_or(|k| k.len() <= MAX_LOG_KEY_CHARS));
        }
    }
}
