//! `infra workspace list|new|delete`: several isolated states of one configuration, in
//! the same backend.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::output::Report;
use crate::render;
use crate::session::BackendArgs;

#[derive(Args, Debug)]
pub struct WorkspaceArgs {
    #[command(subcommand)]
    command: WorkspaceCommand,

    /// The root module
    #[arg(long = "module", value_name = "DIR", default_value = ".", global = true)]
    module_dir: PathBuf,

    /// The PostgreSQL or S3 state to manage (as `--state-url` elsewhere)
    #[arg(long = "state-url", value_name = "URL", env = "INFRA_STATE_URL", hide_env_values = true, global = true)]
    state_url: Option<String>,

    /// The selected workspace, marked in `list`
    #[arg(long, value_name = "NAME", env = "INFRA_WORKSPACE", global = true)]
    workspace: Option<String>,
}

#[derive(Subcommand, Debug)]
enum WorkspaceCommand {
    /// List the workspaces, marking the selected one with `*`
    List,
    /// Create an empty workspace
    New {
        /// Letters, digits, `-`, `_` and `.`
        name: String,
    },
    /// Delete a workspace and its state; refused while it holds instances
    Delete {
        name: String,
        /// Delete even when its state holds instances (the objects are not deleted)
        #[arg(long)]
        force: bool,
    },
}

pub fn run(args: &WorkspaceArgs) -> Report {
    let backend =
        BackendArgs { state_url: args.state_url.clone(), workspace: args.workspace.clone(), allow_empty_state: false };
    let location = match crate::session::location_for_dir(&args.module_dir, &backend) {
        Ok(location) => location,
        Err(report) => return report,
    };
    let result = match &args.command {
        WorkspaceCommand::List => location.workspaces().map(|names| {
            for name in names {
                let marker = if name == location.workspace() { "*" } else { " " };
                render::to_stdout(&format!("{marker} {name}\n"));
            }
        }),
        WorkspaceCommand::New { name } => location.create_workspace(name).map(|()| {
            render::to_stdout(&format!("Created workspace `{name}`; select it with `--workspace {name}`.\n"));
        }),
        WorkspaceCommand::Delete { name, force } => location.delete_workspace(name, *force).map(|forgotten| {
            render::to_stdout(&format!("Deleted workspace `{name}`.\n"));
            // `--force` deleted a state that held objects: they are still there, and
            // nothing manages them now.
            if forgotten > 0 {
                let what = render::plural(forgotten, "instance");
                render::to_stderr(&format!(
                    "warning: it held {what}: their objects still exist, and Infra no longer manages them \
                     (`infra import` takes one back)\n"
                ));
            }
        }),
    };
    match result {
        Ok(()) => Report::ok(),
        Err(error) => Report::state_error(&error),
    }
}
