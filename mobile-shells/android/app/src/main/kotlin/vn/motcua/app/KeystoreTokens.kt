// The core's TokenStore on Android: tokens in EncryptedSharedPreferences, whose key lives
// in the Android Keystore (AES-256-GCM master key), never in plain files.
package vn.motcua.app

import android.content.Context
import androidx.security.crypto.EncryptedSharedPreferences
import androidx.security.crypto.MasterKey
import vn.motcua.client.StoredTokens
import vn.motcua.client.TokenStore

class KeystoreTokens(context: Context) : TokenStore {
    private val prefs = EncryptedSharedPreferences.create(
        context,
        "motcua_tokens",
        MasterKey.Builder(context).setKeyScheme(MasterKey.KeyScheme.AES256_GCM).build(),
        EncryptedSharedPreferences.PrefKeyEncryptionScheme.AES256_SIV,
        EncryptedSharedPreferences.PrefValueEncryptionScheme.AES256_GCM,
    )

    override fun load(): StoredTokens? {
        val access = prefs.getString("access", null) ?: return null
        val refresh = prefs.getString("refresh", null) ?: return null
        return StoredTokens(access, refresh, prefs.getLong("access_exp", 0), prefs.getLong("refresh_exp", 0))
    }

    override fun save(tokens: StoredTokens) {
        prefs.edit()
            .putString("access", tokens.accessToken)
            .putString("refresh", tokens.refreshToken)
            .putLong("access_exp", tokens.accessExpiresAtMs)
            .putLong("refresh_exp", tokens.refreshExpiresAtMs)
            .commit()
    }

    override fun clear() {
        prefs.edit().clear().commit()
    }
}
