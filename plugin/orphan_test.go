package plugin

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"gotest.tools/v3/assert"
)

func TestCancelWhenOrphaned(t *testing.T) {
	var ppid atomic.Int64
	ppid.Store(4242)
	getppid := func() int { return int(ppid.Load()) }

	ctx, cancel := cancelWhenOrphaned(context.Background(), 4242, getppid, time.Millisecond)
	defer cancel()
	select {
	case <-ctx.Done():
		t.Fatal("cancelled while the parent lives")
	case <-time.After(50 * time.Millisecond):
	}
	ppid.Store(1) // the parent exited: re-parented to init
	select {
	case <-ctx.Done():
		assert.ErrorIs(t, ctx.Err(), context.Canceled)
	case <-time.After(10 * time.Second):
		t.Fatal("not cancelled after the parent exited")
	}
}

func TestCancelWhenOrphanedAtOnce(t *testing.T) {
	// The parent exited before the command started.
	ctx, cancel := cancelWhenOrphaned(context.Background(), 4242, func() int { return 1 }, time.Hour)
	defer cancel()
	select {
	case <-ctx.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("not cancelled")
	}
}

func TestCancelWhenOrphanedNoParent(t *testing.T) {
	// Started by init: nothing to watch, only the parent context counts.
	parent, cancelParent := context.WithCancel(context.Background())
	ctx, cancel := cancelWhenOrphaned(parent, 1, func() int { return 1 }, time.Millisecond)
	defer cancel()
	select {
	case <-ctx.Done():
		t.Fatal("cancelled without a reason")
	case <-time.After(50 * time.Millisecond):
	}
	cancelParent()
	select {
	case <-ctx.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("not cancelled with its parent context")
	}
}
