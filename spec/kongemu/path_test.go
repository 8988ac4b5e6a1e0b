package kongemu

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestNormalizePath(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"/", "/"},
		{"/a/b", "/a/b"},
		{"/a//b///c", "/a/b/c"},
		{"/a/./b/../c", "/a/c"},
		{"/a/b/..", "/a/"},
		{"/a/b/.", "/a/b/"},
		{"/..", "/"},
		{"/../../a", "/a"},
		{"/fo%6F", "/foo"},
		{"/foo%3a", "/foo%3A"},
		{"/a%2fb", "/a%2Fb"},
		{"/%2e%2E/x", "/x"},
		{"/a%20b", "/a b"},
		{"/a%zz", "/a%zz"},
		{"/a%2", "/a%2"},
		{"/%25", "/%25"},
		{"/a/", "/a/"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			require.Equal(t, tt.want, NormalizePath(tt.in))
		})
	}
}

func TestEscapePath(t *testing.T) {
	require.Equal(t, "/a%20b/%C3%A9/~x/%/%22%3C%3E%5C%5E%60%7B%7C%7D", EscapePath("/a b/é/~x/%/\"<>\\^`{|}"))
	require.Equal(t, "/a!$&'()*+,;=:@[]?#", EscapePath("/a!$&'()*+,;=:@[]?#"))
}

func TestSanitizePostfix(t *testing.T) {
	for in, want := range map[string]string{"": "", ".": "", "..": "", "./a": "a", "../a": "a", "/a": "/a"} {
		require.Equal(t, want, sanitizePostfix(in), in)
	}
}
