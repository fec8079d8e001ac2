// The form screen, drawn from the core's FormView alone: which fields show, their labels,
// options and issues are the core's; every edit is saved at once (autosave) and answered by
// the core's live validation. Also the drafts list. Repeated groups are shown read-only.
package vn.motcua.presentation

import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import vn.motcua.client.*

enum class Input { TEXT, MULTILINE, NUMBER, DATE, CHOICE, CHOICES, CHECKBOX, ADDRESS, GROUP, FILES }

data class FieldRow(
    val key: String,
    val label: String,
    val required: Boolean,
    val help: String?,
    val input: Input,
    /** The value as the citizen reads it (dates dd/mm/yyyy). */
    val text: String,
    val checked: Boolean,
    val options: List<FormOption>,
    val files: List<DraftFile>,
    val errors: List<String>,
)

data class FormState(
    val draftId: String? = null,
    val title: String = "",
    val editable: Boolean = false,
    val branchCode: String? = null,
    val rows: List<FieldRow> = emptyList(),
    /** How many problems are left before it can be sent. */
    val problems: Int = 0,
    /** Set once submitted: the outbox item carrying it. */
    val queuedItem: String? = null,
    val message: String? = null,
)

private fun plain(value: FieldValue?): String = when (value) {
    null -> ""
    is FieldValue.Text -> value.value
    is FieldValue.Number -> if (value.value % 1.0 == 0.0) value.value.toLong().toString() else value.value.toString()
    is FieldValue.Bool -> value.value.toString()
    is FieldValue.Date -> day(value.value)
    is FieldValue.Choice -> value.value
    is FieldValue.Choices -> value.values.joinToString(", ")
    is FieldValue.Address -> listOfNotNull(value.street, value.ward, value.district, value.province).filter { it.isNotEmpty() }.joinToString(", ")
    is FieldValue.Group -> "${value.items.size}"
    is FieldValue.Files -> "${value.fileIds.size}"
}

fun row(field: FormField): FieldRow {
    val k = field.kind
    val input = when (k) {
        is FormFieldKind.Text -> if (k.multiline) Input.MULTILINE else Input.TEXT
        FormFieldKind.CitizenId, FormFieldKind.Phone, FormFieldKind.Email -> Input.TEXT
        is FormFieldKind.Number -> Input.NUMBER
        is FormFieldKind.Date -> Input.DATE
        is FormFieldKind.Select -> if (k.multiple) Input.CHOICES else Input.CHOICE
        is FormFieldKind.Checkbox -> Input.CHECKBOX
        is FormFieldKind.Address -> Input.ADDRESS
        is FormFieldKind.Group -> Input.GROUP
        is FormFieldKind.Attachment -> Input.FILES
    }
    val shown = when (val v = field.value) {
        is FieldValue.Choice -> (k as? FormFieldKind.Select)?.options?.firstOrNull { it.value == v.value }?.label ?: v.value
        else -> plain(v)
    }
    return FieldRow(
        key = field.key,
        label = field.label,
        required = field.required,
        help = field.help,
        input = input,
        text = shown,
        checked = (field.value as? FieldValue.Bool)?.value == true,
        options = (k as? FormFieldKind.Select)?.options.orEmpty(),
        files = (k as? FormFieldKind.Attachment)?.files.orEmpty(),
        errors = field.issues.map { it.message },
    )
}

class FormScreen(private val session: Session) {
    private val _state = MutableStateFlow(FormState())
    val state: StateFlow<FormState> = _state
    private var view: FormView? = null
    private val c = session.client

    private fun failed(message: String, @Suppress("UNUSED_PARAMETER") fields: Map<String, String>) {
        _state.value = _state.value.copy(message = message)
    }

    suspend fun open(draftId: String) {
        val v = attempt(::failed) { c.formView(draftId) } ?: return
        view = v
        _state.value = FormState(
            draftId = v.draftId,
            title = v.procedureName,
            editable = v.editable,
            branchCode = v.branchCode,
            rows = v.fields.filter { it.visible }.map(::row),
            problems = v.issues.size,
        )
    }

    private suspend fun reload(message: String? = null) {
        val id = _state.value.draftId ?: return
        val queued = _state.value.queuedItem
        open(id)
        _state.value = _state.value.copy(queuedItem = queued, message = message)
    }

    private fun field(key: String): FormField? = view?.fields?.firstOrNull { it.key == key }

    private suspend fun save(key: String, value: FieldValue?) {
        val id = _state.value.draftId ?: return
        attempt(::failed) { c.setField(id, key, value) } ?: return
        reload()
    }

    /** What the citizen typed in a text, number or date box (an empty box clears the value).
     *  What cannot be read as the field's type goes to the core as text: it says what is wrong. */
    suspend fun type(key: String, text: String) {
        val f = field(key) ?: return
        val value = when {
            text.isBlank() -> null
            f.kind is FormFieldKind.Number -> text.trim().replace(',', '.').toDoubleOrNull()?.let { FieldValue.Number(it) } ?: FieldValue.Text(text)
            f.kind is FormFieldKind.Date -> FieldValue.Date(typedDate(text) ?: text.trim())
            else -> FieldValue.Text(text)
        }
        save(key, value)
    }

    suspend fun choose(key: String, option: String) = save(key, FieldValue.Choice(option))

    /** A multiple choice's option ticked or unticked. */
    suspend fun toggle(key: String, option: String) {
        val now = (field(key)?.value as? FieldValue.Choices)?.values.orEmpty()
        save(key, FieldValue.Choices(if (option in now) now - option else now + option))
    }

    suspend fun check(key: String, checked: Boolean) = save(key, FieldValue.Bool(checked))

    /** Provinces and their wards come from the core: `client.provinces()`, `client.wards(p)`. */
    suspend fun setAddress(key: String, province: String, ward: String, street: String?) =
        save(key, FieldValue.Address(province, ward, null, null, street?.ifBlank { null }))

    /** A photo from the camera or gallery (a file the app copied), or any file by path. */
    suspend fun attach(key: String, path: String, fileName: String) {
        val id = _state.value.draftId ?: return
        attempt(::failed) { c.attachFile(id, key, path, fileName) } ?: return
        reload()
    }

    suspend fun removeFile(fileId: String) {
        val id = _state.value.draftId ?: return
        attempt(::failed) { c.removeFile(id, fileId) } ?: return
        reload()
    }

    suspend fun setBranch(code: String?) {
        val id = _state.value.draftId ?: return
        attempt(::failed) { c.setBranch(id, code) } ?: return
        reload()
    }

    /** "Gửi": queued in the outbox (works offline); refused fields show on the form. */
    suspend fun submit() {
        val id = _state.value.draftId ?: return
        var refused: String? = null
        val item = attempt({ m, _ -> refused = m }) { c.submitDraft(id) }
        reload(refused)
        if (item != null) _state.value = _state.value.copy(queuedItem = item.id)
    }
}

data class DraftRow(val id: String, val title: String, val state: String, val updated: String, val supplementFor: String?)

data class DraftsState(val rows: List<DraftRow> = emptyList(), val message: String? = null)

class DraftsScreen(private val session: Session) {
    private val _state = MutableStateFlow(DraftsState())
    val state: StateFlow<DraftsState> = _state
    private val lang = session.lang

    private fun failed(message: String, @Suppress("UNUSED_PARAMETER") fields: Map<String, String>) {
        _state.value = _state.value.copy(message = message)
    }

    suspend fun load() {
        val drafts = attempt(::failed) { session.client.listDrafts() } ?: return
        _state.value = DraftsState(drafts.map {
            val title = if (it.supplementFor != null) lang.t("Bổ sung: ", "Supplement: ") + it.procedureName else it.procedureName
            DraftRow(it.id, title, draftStateWords(lang, it.state), dateTime(it.updatedAtMs), it.supplementFor)
        })
    }

    suspend fun delete(draftId: String) {
        attempt(::failed) { session.client.deleteDraft(draftId) } ?: return
        load()
    }
}
