package nodeimage

import (
	"archive/tar"
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// The recipe (images/node) runs at /kinc-recipe inside the rootfs.
const (
	suite          = "bookworm"
	recipeDir      = "kinc-recipe"
	recipeScript   = "recipe.sh"
	recipePackages = "packages"
)

// hashRecipe returns the cache key of a rootfs: a hash of how the base
// system is made (key: the debootstrap suite and architecture, or the base
// image's ID) and of every file of the recipe, path, size and content, in
// lexical order.
func hashRecipe(recipe fs.FS, key string) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "kinc node rootfs v1\nbase %s\n", key)
	err := fs.WalkDir(recipe, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(recipe, p)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "file %s %d\n", p, len(data))
		h.Write(data)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("hash the node image recipe: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// recipePackageList returns the packages the recipe names, one a line, with
// comments and blank lines dropped.
func recipePackageList(recipe fs.FS) ([]string, error) {
	data, err := fs.ReadFile(recipe, recipePackages)
	if err != nil {
		return nil, fmt.Errorf("read the recipe's package list: %w", err)
	}
	var pkgs []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		pkgs = append(pkgs, strings.Fields(line)...)
	}
	return pkgs, sc.Err()
}

// writeRecipeDir copies the recipe into dir (created), scripts executable.
func writeRecipeDir(recipe fs.FS, dir string) error {
	return fs.WalkDir(recipe, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		target := filepath.Join(dir, filepath.FromSlash(p))
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := fs.ReadFile(recipe, p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, recipeFileMode(data))
	})
}

// writeRecipeTar writes the recipe as a tarball whose entries sit under
// prefix (for `docker cp -`).
func writeRecipeTar(recipe fs.FS, prefix string, w io.Writer) error {
	tw := tar.NewWriter(w)
	err := fs.WalkDir(recipe, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := path.Join(prefix, p)
		if d.IsDir() {
			return tw.WriteHeader(&tar.Header{Name: name + "/", Typeflag: tar.TypeDir, Mode: 0o755})
		}
		data, err := fs.ReadFile(recipe, p)
		if err != nil {
			return err
		}
		if err := tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: int64(recipeFileMode(data)), Size: int64(len(data))}); err != nil {
			return err
		}
		_, err = tw.Write(data)
		return err
	})
	if err != nil {
		return err
	}
	return tw.Close()
}

// recipeFileMode makes scripts (a #! first line) executable; embedded files
// carry no mode.
func recipeFileMode(data []byte) os.FileMode {
	if bytes.HasPrefix(data, []byte("#!")) {
		return 0o755
	}
	return 0o644
}
