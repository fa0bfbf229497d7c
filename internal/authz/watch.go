package authz

import (
	"context"
	"time"

	"github.com/fsnotify/fsnotify"
)

// debounce lets an editor finish writing (several events per save) before the policy compiles.
const debounce = 200 * time.Millisecond

// Watch reloads the policy whenever a file in the policy directory changes, until ctx ends.
// Without a directory (the embedded policy) it only waits.
func (e *Engine) Watch(ctx context.Context) error {
	if e.dir == "" {
		<-ctx.Done()
		return nil
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return err
	}
	defer w.Close()
	if err := w.Add(e.dir); err != nil {
		return err
	}
	var timer <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev := <-w.Events:
			if ev.Has(fsnotify.Write) || ev.Has(fsnotify.Create) || ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
				timer = time.After(debounce)
			}
		case err := <-w.Errors:
			e.logger.Error("watching the policy directory", "error", err.Error())
		case <-timer:
			timer = nil
			e.Reload(ctx) // a rejection is logged and kept in Status
		}
	}
}
