package engine

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"time"

	"github.com/moby/moby/client"
)

// OneFileImage is an image whose root file system holds one file, made
// here and imported (docker import): nothing is pulled, so it can be made
// on any engine, offline ones included.
type OneFileImage struct {
	Repo, Tag string
	// File is the file's path in the image, without the leading "/".
	File    string
	Content []byte
	ModTime time.Time
	// Message and Changes are those of docker import (CMD, LABEL lines).
	Message string
	Changes []string
}

// Importer is the part of the engine's API that Import uses.
type Importer interface {
	ImageImport(ctx context.Context, source client.ImageImportSource, ref string, options client.ImageImportOptions) (client.ImageImportResult, error)
}

// Import creates img on the engine. The engine reports a failed import in
// the JSON messages of its answer, which are read to their end.
func Import(ctx context.Context, c Importer, img OneFileImage) error {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Name: img.File, Mode: 0o644, Size: int64(len(img.Content)), ModTime: img.ModTime}); err != nil {
		return err
	}
	if _, err := tw.Write(img.Content); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	rc, err := c.ImageImport(ctx, client.ImageImportSource{Source: &buf, SourceName: "-"}, img.Repo, client.ImageImportOptions{
		Tag: img.Tag, Message: img.Message, Changes: img.Changes,
	})
	if err != nil {
		return err
	}
	return importError(rc)
}

// importError reads the JSON messages of an image import to their end and
// returns the error one of them reports.
func importError(rc io.ReadCloser) error {
	defer rc.Close()
	dec := json.NewDecoder(rc)
	for {
		var m struct {
			Error string `json:"error"`
		}
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		if m.Error != "" {
			return errors.New(m.Error)
		}
	}
}
