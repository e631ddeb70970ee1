package instance

import (
	"strings"
	"testing"

	"gotest.tools/v3/assert"
)

func TestFromBranch(t *testing.T) {
	long := "Feature/Refonte-complète_de-la-page-d-accueil/et-du-formulaire-de-contact-2026-b"
	assert.Equal(t, len([]rune(long)), 80)
	cases := []struct {
		branch, want string
	}{
		{"main", "main"},
		{"feature/Été_2026!!", "feature-ete-2026"},
		{"Feature/ADD-Login", "feature-add-login"},
		{"fix//double--dash__", "fix-double-dash"},
		{"-leading/and/trailing-", "leading-and-trailing"},
		{"ñandú/çà", "nandu-ca"},
		{"v1.2.3", "v1-2-3"},
		{"x", "x"},
		{strings.Repeat("a", 30), strings.Repeat("a", 30)},
		{strings.Repeat("a", 31), "aaaaaaaaaaaaaaaaaaaaa-61c60b48"},
		{long, "feature-refonte-compl-dfaef698"},
		{long + "y", "feature-refonte-compl-4b643d9b"},
		// a cut that ends in '-' does not leave "--"
		{"abcdefghijklmnopqrst/uvwxyz0123456789", "abcdefghijklmnopqrst-bcfc1849"},
	}
	for _, tc := range cases {
		got, err := FromBranch(tc.branch)
		assert.NilError(t, err, tc.branch)
		assert.Equal(t, got, tc.want, tc.branch)
		assert.NilError(t, Check(got), tc.branch)
		again, _ := FromBranch(tc.branch)
		assert.Equal(t, again, got, "stable")
	}
	for _, bad := range []string{"", "///", "!!", "été"[0:0]} {
		_, err := FromBranch(bad)
		assert.ErrorContains(t, err, "gives no instance name", bad)
	}
}

func TestCheck(t *testing.T) {
	for _, good := range []string{"a", "feat-x", "b2", strings.Repeat("a", MaxLen)} {
		assert.NilError(t, Check(good), good)
	}
	cases := []struct{ name, err string }{
		{"", "empty"},
		{strings.Repeat("a", MaxLen+1), "longer than 30"},
		{"-a", "starts or ends"},
		{"a-", "starts or ends"},
		{"Feat", "character 'F'"},
		{"feat/x", "character '/'"},
		{"feat_x", "character '_'"},
		{"feat.x", "character '.'"},
	}
	for _, tc := range cases {
		assert.ErrorContains(t, Check(tc.name), tc.err, tc.name)
	}
}

func TestLabelShortened(t *testing.T) {
	inst := strings.Repeat("i", MaxLen)
	l := strings.Repeat("l", 40)
	got := label(l, inst)
	assert.Equal(t, len(got), 63)
	assert.Assert(t, strings.HasSuffix(got, "-"+inst))
	assert.Equal(t, got, label(l, inst), "stable")
	assert.Assert(t, got != label(l+"x", inst), "a hash of the label")
	assert.Equal(t, label("pad", "x"), "pad-x")
}
