// A small JSON reader for the one JSON document the screens read themselves (a procedure's
// published page, `ProcedureDetail.procedureJson`), so the module needs no library beyond
// the bindings: objects become Map, arrays List, numbers Double, plus String, Boolean, null.
package vn.motcua.presentation

class JsonError(message: String) : IllegalArgumentException(message)

fun parseJson(text: String): Any? {
    val reader = JsonReader(text)
    val value = reader.value(0)
    reader.skipSpace()
    if (reader.at < text.length) throw JsonError("trailing text at ${reader.at}")
    return value
}

private class JsonReader(private val s: String) {
    var at = 0

    fun skipSpace() {
        while (at < s.length && s[at].isWhitespace()) at++
    }

    private fun fail(what: String): Nothing = throw JsonError("$what at $at")

    private fun next(): Char = if (at < s.length) s[at++] else fail("unexpected end")

    fun value(depth: Int): Any? {
        if (depth > 64) fail("nested too deep")
        skipSpace()
        return when (val c = if (at < s.length) s[at] else fail("unexpected end")) {
            '{' -> {
                at++
                val map = LinkedHashMap<String, Any?>()
                skipSpace()
                if (s.getOrNull(at) == '}') { at++; return map }
                while (true) {
                    skipSpace()
                    if (next() != '"') fail("expected a key")
                    val key = string()
                    skipSpace()
                    if (next() != ':') fail("expected ':'")
                    map[key] = value(depth + 1)
                    skipSpace()
                    when (next()) { ',' -> continue; '}' -> return map; else -> fail("expected ',' or '}'") }
                }
            }
            '[' -> {
                at++
                val list = ArrayList<Any?>()
                skipSpace()
                if (s.getOrNull(at) == ']') { at++; return list }
                while (true) {
                    list.add(value(depth + 1))
                    skipSpace()
                    when (next()) { ',' -> continue; ']' -> return list; else -> fail("expected ',' or ']'") }
                }
            }
            '"' -> { at++; string() }
            't' -> word("true", true)
            'f' -> word("false", false)
            'n' -> word("null", null)
            else -> if (c == '-' || c.isDigit()) number() else fail("unexpected '$c'")
        }
    }

    private fun word(w: String, v: Any?): Any? {
        if (!s.startsWith(w, at)) fail("expected $w")
        at += w.length
        return v
    }

    private fun number(): Double {
        val start = at
        while (at < s.length && (s[at].isDigit() || s[at] in "+-.eE")) at++
        return s.substring(start, at).toDoubleOrNull() ?: fail("bad number")
    }

    private fun string(): String {
        val out = StringBuilder()
        while (true) {
            when (val c = next()) {
                '"' -> return out.toString()
                '\\' -> when (val e = next()) {
                    'n' -> out.append('\n'); 't' -> out.append('\t'); 'r' -> out.append('\r')
                    'b' -> out.append('\b'); 'f' -> out.append('\u000C')
                    'u' -> {
                        if (at + 4 > s.length) fail("bad escape")
                        out.append(s.substring(at, at + 4).toIntOrNull(16)?.toChar() ?: fail("bad escape"))
                        at += 4
                    }
                    else -> out.append(e)
                }
                else -> out.append(c)
            }
        }
    }
}
