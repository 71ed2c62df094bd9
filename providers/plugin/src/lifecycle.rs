//! The calls of a resource's and a data source's lifecycle on a [`Connection`]:
//! `PlanResourceChange`, `ApplyResourceChange`, `ReadResource`, `ReadDataSource`,
//! `ImportResourceState` and `UpgradeResourceState`, alike in protocols 6 and 5. Values go
//! as MessagePack by the kind's schema (`values.rs`); the answers keep the plugin's
//! diagnostics, which the caller turns into errors or warnings.

use crate::client::{failed, path_v5, path_v6, Client, Connection, PathStep, PluginDiagnostic, PluginError};
use crate::protocol::{tfplugin5, tfplugin6};
use crate::schema::Block;
use crate::values::{self, PluginValue};

/// What `PlanResourceChange` answered.
#[derive(Debug)]
pub struct Planned {
    pub state: PluginValue,
    /// Attributes whose change replaces the object.
    pub requires_replace: Vec<Vec<PathStep>>,
    pub private: Vec<u8>,
    pub diagnostics: Vec<PluginDiagnostic>,
}

/// What `ApplyResourceChange` or `ReadResource` answered: the object's state (null when
/// deleted or gone) and its private data.
#[derive(Debug)]
pub struct Stated {
    pub state: PluginValue,
    pub private: Vec<u8>,
    pub diagnostics: Vec<PluginDiagnostic>,
}

/// An object `ImportResourceState` found.
#[derive(Debug)]
pub struct Imported {
    pub type_name: String,
    pub state: PluginValue,
    pub private: Vec<u8>,
}

/// What one call of a resource kind is about: the kind's Terraform name and schema.
pub struct Kind<'a> {
    pub type_name: &'a str,
    pub block: &'a Block,
}

/// Runs the same request body for either protocol version: `$v` names the version's
/// module inside `$body`.
macro_rules! either {
    ($connection:expr, |$client:ident, $v:ident, $path:ident| $body:expr) => {
        match &mut $connection.client {
            Client::V6($client) => {
                use tfplugin6 as $v;
                #[allow(unused)]
                let $path = path_v6;
                $body
            }
            Client::V5($client) => {
                use tfplugin5 as $v;
                #[allow(unused)]
                let $path = path_v5;
                $body
            }
        }
    };
}

impl Connection {
    /// Plans a change of one object: from `prior` (null: a create) to `proposed`, the
    /// configuration merged with the prior state (null: a delete).
    pub async fn plan_resource_change(
        &mut self,
        kind: &Kind<'_>,
        prior: &PluginValue,
        proposed: &PluginValue,
        config: &PluginValue,
        prior_private: &[u8],
    ) -> Result<Planned, PluginError> {
        let call = "PlanResourceChange";
        let (prior, proposed, config) = (encode(prior, kind)?, encode(proposed, kind)?, encode(config, kind)?);
        either!(self, |client, v, path| {
            let request = v::plan_resource_change::Request {
                type_name: kind.type_name.to_string(),
                prior_state: Some(v::DynamicValue { msgpack: prior, json: Vec::new() }),
                proposed_new_state: Some(v::DynamicValue { msgpack: proposed, json: Vec::new() }),
                config: Some(v::DynamicValue { msgpack: config, json: Vec::new() }),
                prior_private: prior_private.to_vec(),
                client_capabilities: None,
            };
            let response =
                client.plan_resource_change(request).await.map_err(|status| failed(call, &status))?.into_inner();
            let diagnostics: Vec<PluginDiagnostic> = response.diagnostics.into_iter().map(Into::into).collect();
            let state = match has_errors(&diagnostics) {
                true => PluginValue::Null,
                false => decode(response.planned_state.map(|d| (d.msgpack, d.json)), kind, call)?,
            };
            Ok(Planned {
                state,
                requires_replace: response.requires_replace.into_iter().map(|p| path(Some(p))).collect(),
                private: response.planned_private,
                diagnostics,
            })
        })
    }

    /// Carries out a planned change: a create (`prior` null), an update, or a delete
    /// (`planned` null).
    pub async fn apply_resource_change(
        &mut self,
        kind: &Kind<'_>,
        prior: &PluginValue,
        planned: &PluginValue,
        config: &PluginValue,
        planned_private: &[u8],
    ) -> Result<Stated, PluginError> {
        let call = "ApplyResourceChange";
        let (prior, planned, config) = (encode(prior, kind)?, encode(planned, kind)?, encode(config, kind)?);
        either!(self, |client, v, path| {
            let request = v::apply_resource_change::Request {
                type_name: kind.type_name.to_string(),
                prior_state: Some(v::DynamicValue { msgpack: prior, json: Vec::new() }),
                planned_state: Some(v::DynamicValue { msgpack: planned, json: Vec::new() }),
                config: Some(v::DynamicValue { msgpack: config, json: Vec::new() }),
                planned_private: planned_private.to_vec(),
            };
            let response =
                client.apply_resource_change(request).await.map_err(|status| failed(call, &status))?.into_inner();
            let diagnostics: Vec<PluginDiagnostic> = response.diagnostics.into_iter().map(Into::into).collect();
            // A failed apply may still return the object as far as it got.
            let state = decode(response.new_state.map(|d| (d.msgpack, d.json)), kind, call)?;
            Ok(Stated { state, private: response.private, diagnostics })
        })
    }

    /// Reads an object as it is now; a null state means it is gone.
    pub async fn read_resource(
        &mut self,
        kind: &Kind<'_>,
        current: &PluginValue,
        private: &[u8],
    ) -> Result<Stated, PluginError> {
        let call = "ReadResource";
        let current = encode(current, kind)?;
        either!(self, |client, v, path| {
            let request = v::read_resource::Request {
                type_name: kind.type_name.to_string(),
                current_state: Some(v::DynamicValue { msgpack: current, json: Vec::new() }),
                private: private.to_vec(),
                client_capabilities: None,
            };
            let response = client.read_resource(request).await.map_err(|status| failed(call, &status))?.into_inner();
            let diagnostics: Vec<PluginDiagnostic> = response.diagnostics.into_iter().map(Into::into).collect();
            let state = match has_errors(&diagnostics) {
                true => PluginValue::Null,
                false => decode(response.new_state.map(|d| (d.msgpack, d.json)), kind, call)?,
            };
            Ok(Stated { state, private: response.private, diagnostics })
        })
    }

    /// Reads a data source of configuration `config`.
    pub async fn read_data_source(
        &mut self,
        kind: &Kind<'_>,
        config: &PluginValue,
    ) -> Result<(PluginValue, Vec<PluginDiagnostic>), PluginError> {
        let call = "ReadDataSource";
        let config = encode(config, kind)?;
        either!(self, |client, v, path| {
            let request = v::read_data_source::Request {
                type_name: kind.type_name.to_string(),
                config: Some(v::DynamicValue { msgpack: config, json: Vec::new() }),
                client_capabilities: None,
            };
            let response = client.read_data_source(request).await.map_err(|status| failed(call, &status))?.into_inner();
            let diagnostics: Vec<PluginDiagnostic> = response.diagnostics.into_iter().map(Into::into).collect();
            let state = match has_errors(&diagnostics) {
                true => PluginValue::Null,
                false => decode(response.state.map(|d| (d.msgpack, d.json)), kind, call)?,
            };
            Ok((state, diagnostics))
        })
    }

    /// Finds the objects an import id names (usually one, of the kind asked for).
    pub async fn import_resource_state(
        &mut self,
        kind: &Kind<'_>,
        id: &str,
    ) -> Result<(Vec<Imported>, Vec<PluginDiagnostic>), PluginError> {
        let call = "ImportResourceState";
        either!(self, |client, v, path| {
            let request = v::import_resource_state::Request {
                type_name: kind.type_name.to_string(),
                id: id.to_string(),
                client_capabilities: None,
            };
            let response =
                client.import_resource_state(request).await.map_err(|status| failed(call, &status))?.into_inner();
            let diagnostics: Vec<PluginDiagnostic> = response.diagnostics.into_iter().map(Into::into).collect();
            let mut imported = Vec::new();
            for resource in response.imported_resources {
                // Only objects of the kind asked for can be read by its schema.
                if resource.type_name != kind.type_name {
                    continue;
                }
                let state = decode(resource.state.map(|d| (d.msgpack, d.json)), kind, call)?;
                imported.push(Imported { type_name: resource.type_name, state, private: resource.private });
            }
            Ok((imported, diagnostics))
        })
    }

    /// Has the plugin upgrade a state written as JSON under schema `version` to its
    /// current schema (what Terraform does before every read of stored state).
    pub async fn upgrade_resource_state(
        &mut self,
        kind: &Kind<'_>,
        version: i64,
        json: Vec<u8>,
    ) -> Result<(PluginValue, Vec<PluginDiagnostic>), PluginError> {
        let call = "UpgradeResourceState";
        either!(self, |client, v, path| {
            let request = v::upgrade_resource_state::Request {
                type_name: kind.type_name.to_string(),
                version,
                raw_state: Some(v::RawState { json, flatmap: Default::default() }),
            };
            let response =
                client.upgrade_resource_state(request).await.map_err(|status| failed(call, &status))?.into_inner();
            let diagnostics: Vec<PluginDiagnostic> = response.diagnostics.into_iter().map(Into::into).collect();
            let state = match has_errors(&diagnostics) {
                true => PluginValue::Null,
                false => decode(response.upgraded_state.map(|d| (d.msgpack, d.json)), kind, call)?,
            };
            Ok((state, diagnostics))
        })
    }
}

fn has_errors(diagnostics: &[PluginDiagnostic]) -> bool {
    diagnostics.iter().any(|d| d.error)
}

fn encode(value: &PluginValue, kind: &Kind<'_>) -> Result<Vec<u8>, PluginError> {
    values::encode_block(value, kind.block).map_err(|e| PluginError::Value(format!("{}: {e}", kind.type_name)))
}

/// A `DynamicValue` of the kind's schema (absent: null). Plugins answer in MessagePack;
/// JSON is what old state holds, not what an answer is.
fn decode(value: Option<(Vec<u8>, Vec<u8>)>, kind: &Kind<'_>, call: &str) -> Result<PluginValue, PluginError> {
    match value {
        None => Ok(PluginValue::Null),
        Some((msgpack, _)) if !msgpack.is_empty() => values::decode_block(&msgpack, kind.block)
            .map_err(|e| PluginError::Answer(format!("{call} of {}: {e}", kind.type_name))),
        Some((_, json)) if json.is_empty() => Ok(PluginValue::Null),
        Some(_) => Err(PluginError::Answer(format!("{call} of {} answered JSON, not MessagePack", kind.type_name))),
    }
}
