//! What an edit of one component body says: the versions of its modules and nested
//! definitions, what is appended, removed or replaced. `tree` carries it out.

use super::super::builder::BodyBuilder;
use super::super::rope::Rope;
use crate::model::{IndexCounts, Scope, Site, Sort};
use std::collections::{HashMap, HashSet};

/// Items appended after a body's last section.
pub type Append<'a> = Box<dyn Fn(&mut BodyBuilder) + 'a>;

/// A function export to remove from a body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportRemoval {
    /// The export's name.
    pub name: String,
    /// The component function index the export itself creates.
    pub entry: u32,
    /// The component function it exports.
    pub target: u32,
}

/// How one component body is re-encoded.
pub struct BodyEdit<'a> {
    /// Sizes of the body's index spaces in the input.
    pub(super) counts: IndexCounts,
    /// Per module definition (by ordinal): its index and the versions to emit in its place.
    /// No versions keeps the original.
    pub modules: Vec<(u32, Vec<Rope<'a>>)>,
    /// Core instance index → which version of its module it instantiates.
    pub module_version: HashMap<u32, u32>,
    /// Per nested definition (by ordinal): its index and the edits of its versions. No
    /// versions re-encodes it unchanged (its outer aliases may still move).
    pub components: Vec<(u32, Vec<BodyEdit<'a>>)>,
    /// Component instance-section entry (by position) → which version of its component it
    /// instantiates.
    pub component_version: HashMap<u32, u32>,
    /// Prepend `list<u8>`, the sink's type and the `compsnap-sink` import.
    pub sink: bool,
    /// Component instance-section entries (by position) that get `with "compsnap-sink"`.
    pub sink_args: HashSet<u32>,
    /// What to append after the body's last section.
    pub append: Option<Append<'a>>,
    /// The function export to remove.
    pub remove_export: Option<ExportRemoval>,
    /// Removes the function export `.1` from the inline-export component instance at
    /// instance-section entry `.0`.
    pub remove_instance_item: Option<(u32, String)>,
    /// The instance export whose type ascription goes (its instance lost an item).
    pub strip_ascription: Option<String>,
    /// Module and component entries that are exports of a definition of the body → that
    /// definition's entry: an instantiation of one names the version of the definition.
    pub(super) module_definitions: HashMap<u32, u32>,
    pub(super) component_definitions: HashMap<u32, u32>,
    /// Imports and aliases (by where they sit in the input body) replaced with a module or
    /// component definition, which takes their index (see `model::inline`).
    pub replace_sites: HashMap<Site, (Sort, Vec<u8>)>,
}

impl<'a> BodyEdit<'a> {
    /// An edit that changes nothing yet.
    pub fn new(scope: &Scope) -> Self {
        let exported = |n: u32, definition: &dyn Fn(u32) -> u32| {
            (0..n)
                .filter(|i| definition(*i) != *i)
                .map(|i| (i, definition(i)))
                .collect()
        };
        BodyEdit {
            module_definitions: exported(scope.module_space.len() as u32, &|i| {
                scope.module_definition_index(i)
            }),
            component_definitions: exported(scope.component_space.len() as u32, &|i| {
                scope.component_definition_index(i)
            }),
            counts: scope.counts,
            modules: scope
                .modules
                .iter()
                .map(|m| (m.module_index, Vec::new()))
                .collect(),
            components: scope
                .components
                .iter()
                .map(|(index, _)| (*index, Vec::new()))
                .collect(),
            ..Self::unchanged()
        }
    }

    /// An edit that changes nothing, for a body compsnap does not touch.
    pub(super) fn unchanged() -> Self {
        BodyEdit {
            counts: IndexCounts::default(),
            modules: Vec::new(),
            module_version: HashMap::new(),
            components: Vec::new(),
            component_version: HashMap::new(),
            sink: false,
            sink_args: HashSet::new(),
            append: None,
            remove_export: None,
            remove_instance_item: None,
            strip_ascription: None,
            module_definitions: HashMap::new(),
            component_definitions: HashMap::new(),
            replace_sites: HashMap::new(),
        }
    }
}
