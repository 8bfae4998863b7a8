// Package guid recognises GUIDs in their canonical text form, which
// Microsoft Entra ID uses for tenant, object and application (client) ids.
package guid

// Is reports whether s is a GUID written as 8-4-4-4-12 hexadecimal digits
// (either case) separated by hyphens, without braces or spaces.
func Is(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if c != '-' {
				return false
			}
		} else if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
