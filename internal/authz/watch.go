package authz

import (
	"context"
	"time"

	"github.com/fsnotify/fsnotify"
)

// debounce lets an editor finish writing (several events per save) before the policy compiles.
const debounce = 200 * time.Millisecond

// Watch starts reloading the policy whenever a file in the policy directory changes, until ctx
// ends. It returns once the directory is watched, so no change after it is missed. Without a
// directory (the embedded policy) there is nothing to watch.
func (e *Engine) Watch(ctx context.Context) error {
	if e.dir == "" {
		return nil
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return err
	}
	if err := w.Add(e.dir); err != nil {
		w.Close()
		return err
	}
	go e.watch(ctx, w)
	return nil
}

func (e *Engine) watch(ctx context.Context, w *fsnotify.Watcher) {
	defer w.Close()
	var timer <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return
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
