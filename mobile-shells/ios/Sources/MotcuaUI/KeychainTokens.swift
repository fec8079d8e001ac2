// The core's TokenStore on iOS: the tokens as one Keychain item, readable after the first
// unlock and never leaving this device. Not compiled here (no Swift toolchain).
import Foundation
import MotcuaCore
import Security

public final class KeychainTokens: TokenStore, @unchecked Sendable {
    private let query: [String: Any] = [
        kSecClass as String: kSecClassGenericPassword,
        kSecAttrService as String: "vn.motcua.tokens",
    ]

    public init() {}

    public func load() -> StoredTokens? {
        var q = query
        q[kSecReturnData as String] = true
        var item: CFTypeRef?
        guard SecItemCopyMatching(q as CFDictionary, &item) == errSecSuccess,
              let data = item as? Data,
              let fields = try? JSONDecoder().decode([String: String].self, from: data),
              let access = fields["access"], let refresh = fields["refresh"],
              let accessExp = Int64(fields["access_exp"] ?? ""), let refreshExp = Int64(fields["refresh_exp"] ?? "")
        else { return nil }
        return StoredTokens(accessToken: access, refreshToken: refresh,
                            accessExpiresAtMs: accessExp, refreshExpiresAtMs: refreshExp)
    }

    public func save(tokens: StoredTokens) {
        let fields = ["access": tokens.accessToken, "refresh": tokens.refreshToken,
                      "access_exp": String(tokens.accessExpiresAtMs), "refresh_exp": String(tokens.refreshExpiresAtMs)]
        guard let data = try? JSONEncoder().encode(fields) else { return }
        SecItemDelete(query as CFDictionary)
        var q = query
        q[kSecValueData as String] = data
        q[kSecAttrAccessible as String] = kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly
        SecItemAdd(q as CFDictionary, nil)
    }

    public func clear() {
        SecItemDelete(query as CFDictionary)
    }
}
