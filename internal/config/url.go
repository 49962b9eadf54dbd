package config

import "net/url"

// checkURL reports a value that is not an absolute http(s) URL; empty is allowed unless required.
func checkURL(errs *Errors, key, s string, required bool) {
	if s == "" {
		if required {
			errs.add(key, "must not be empty")
		}
		return
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs.add(key, "must be an absolute http(s) URL, not %q", s)
	}
}
