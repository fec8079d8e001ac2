//! Delivery of events to the app's [`ClientListener`] (if one is set).

use std::sync::{Arc, RwLock};

use crate::model::{ClientListener, DossierStatusChange, OutboxEvent};

#[derive(Default)]
pub(crate) struct Events {
    listener: RwLock<Option<Arc<dyn ClientListener>>>,
}

impl std::fmt::Debug for Events {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Events")
    }
}

impl Events {
    pub(crate) fn set(&self, listener: Arc<dyn ClientListener>) {
        *self.listener.write().unwrap_or_else(|e| e.into_inner()) = Some(listener);
    }

    fn current(&self) -> Option<Arc<dyn ClientListener>> {
        self.listener.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub(crate) fn outbox(&self, event: OutboxEvent) {
        if let Some(l) = self.current() {
            l.on_outbox_event(event);
        }
    }

    pub(crate) fn status_changed(&self, change: DossierStatusChange) {
        if let Some(l) = self.current() {
            l.on_dossier_status_changed(change);
        }
    }

    pub(crate) fn signed_out(&self) {
        if let Some(l) = self.current() {
            l.on_signed_out();
        }
    }
}
