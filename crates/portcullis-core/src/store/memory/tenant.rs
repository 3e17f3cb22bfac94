//! Actions and bindings, settings, logs and signing keys.

use super::*;

#[async_trait]
impl ActionStore for MemoryStore {
    async fn insert_action(&self, action: &ActionRecord) -> Result<(), StoreError> {
        let mut state = self.state();
        if state
            .actions
            .values()
            .any(|a| a.id == action.id || a.name == action.name)
        {
            return Err(StoreError::Conflict(UniqueField::Other));
        }
        state.actions.insert(action.id.clone(), action.clone());
        Ok(())
    }

    async fn action(&self, id: &str) -> Result<Option<ActionRecord>, StoreError> {
        Ok(self.state().actions.get(id).cloned())
    }

    async fn list_actions(&self) -> Result<Vec<ActionRecord>, StoreError> {
        let mut actions: Vec<ActionRecord> = self.state().actions.values().cloned().collect();
        actions.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(actions)
    }

    async fn replace_action(&self, action: &ActionRecord) -> Result<bool, StoreError> {
        let mut state = self.state();
        if state
            .actions
            .values()
            .any(|a| a.id != action.id && a.name == action.name)
        {
            return Err(StoreError::Conflict(UniqueField::Other));
        }
        match state.actions.get_mut(&action.id) {
            Some(stored) => {
                *stored = ActionRecord {
                    created_at: stored.created_at,
                    ..action.clone()
                };
                Ok(true)
            }
            None => Ok(false),
        }
    }

    async fn delete_action(&self, id: &str) -> Result<bool, StoreError> {
        let mut state = self.state();
        for bindings in state.bindings.values_mut() {
            bindings.retain(|b| b.action_id != id);
        }
        Ok(state.actions.remove(id).is_some())
    }

    async fn replace_bindings(
        &self,
        trigger: &str,
        bindings: &[BindingRecord],
    ) -> Result<(), StoreError> {
        self.state()
            .bindings
            .insert(trigger.to_owned(), bindings.to_vec());
        Ok(())
    }

    async fn bindings(&self) -> Result<Vec<BindingRecord>, StoreError> {
        Ok(self
            .state()
            .bindings
            .iter()
            .flat_map(|(trigger, list)| {
                list.iter().map(move |b| BindingRecord {
                    trigger: trigger.clone(),
                    ..b.clone()
                })
            })
            .collect())
    }
}

#[async_trait]
impl SettingStore for MemoryStore {
    async fn setting(&self, name: &str) -> Result<Option<String>, StoreError> {
        Ok(self.state().settings.get(name).cloned())
    }

    async fn put_setting(&self, name: &str, value: &str) -> Result<(), StoreError> {
        self.state()
            .settings
            .insert(name.to_owned(), value.to_owned());
        Ok(())
    }
}

#[async_trait]
impl LogStore for MemoryStore {
    async fn prune_logs(&self, before: i64) -> Result<u64, StoreError> {
        let mut state = self.state();
        let count = state.logs.len();
        state.logs.retain(|e| e.date >= before);
        Ok((count - state.logs.len()) as u64)
    }

    async fn append_log(&self, event: &LogEvent) -> Result<(), StoreError> {
        self.state().logs.push(event.clone());
        Ok(())
    }

    async fn list_logs(&self, query: &LogQuery) -> Result<(Vec<LogEvent>, u64), StoreError> {
        let state = self.state();
        let mut matching: Vec<&LogEvent> = state
            .logs
            .iter()
            .filter(|e| query.log_type.as_ref().is_none_or(|t| &e.log_type == t))
            .filter(|e| {
                query
                    .user_id
                    .as_ref()
                    .is_none_or(|u| e.user_id.as_ref() == Some(u))
            })
            .filter(|e| query.from.as_ref().is_none_or(|from| &e.log_id > from))
            .collect();
        matching.sort_by(|a, b| a.log_id.cmp(&b.log_id));
        if query.newest_first && query.from.is_none() {
            matching.reverse();
        }
        let total = matching.len() as u64;
        let page = matching
            .into_iter()
            .skip(usize::try_from(query.offset).unwrap_or(usize::MAX))
            .take(usize::try_from(query.limit).unwrap_or(usize::MAX))
            .cloned()
            .collect();
        Ok((page, total))
    }

    async fn log_by_id(&self, log_id: &str) -> Result<Option<LogEvent>, StoreError> {
        Ok(self
            .state()
            .logs
            .iter()
            .find(|e| e.log_id == log_id)
            .cloned())
    }
}

#[async_trait]
impl KeyStore for MemoryStore {
    async fn signing_keys(&self) -> Result<Vec<SigningKeyRecord>, StoreError> {
        let mut keys = self.state().keys.clone();
        keys.sort_by_key(|k| std::cmp::Reverse(k.generation));
        Ok(keys)
    }

    async fn insert_signing_key(&self, key: &SigningKeyRecord) -> Result<(), StoreError> {
        let mut state = self.state();
        if state
            .keys
            .iter()
            .any(|k| k.generation == key.generation || k.kid == key.kid)
        {
            return Err(StoreError::Conflict(UniqueField::Other));
        }
        state.keys.push(key.clone());
        Ok(())
    }

    async fn delete_signing_keys_before(&self, generation: i64) -> Result<u64, StoreError> {
        let mut state = self.state();
        let count = state.keys.len();
        state.keys.retain(|k| k.generation >= generation);
        Ok((count - state.keys.len()) as u64)
    }

    async fn sealed_values(
        &self,
        column: SealedColumn,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let state = self.state();
        Ok(match column {
            SealedColumn::OtpSecret => state
                .authenticators
                .values()
                .filter_map(|a| a.secret.clone().map(|s| (a.id.clone(), s)))
                .collect(),
            SealedColumn::SigningKey => {
                let mut keys = state.keys.clone();
                keys.sort_by_key(|k| k.generation);
                keys.into_iter()
                    .map(|k| (k.kid, k.private_key_pem))
                    .collect()
            }
        })
    }

    async fn replace_sealed_value(
        &self,
        column: SealedColumn,
        id: &str,
        old: &str,
        new: &str,
    ) -> Result<bool, StoreError> {
        let mut state = self.state();
        let slot = match column {
            SealedColumn::OtpSecret => state
                .authenticators
                .get_mut(id)
                .and_then(|a| a.secret.as_mut()),
            SealedColumn::SigningKey => state
                .keys
                .iter_mut()
                .find(|k| k.kid == id)
                .map(|k| &mut k.private_key_pem),
        };
        match slot {
            Some(value) if value == old => {
                *value = new.to_owned();
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}
