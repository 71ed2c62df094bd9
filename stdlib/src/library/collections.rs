//! Built-in collection functions: counting, joining and slicing lists, reading maps, set
//! algebra and the predicates over lists of bools.
//!
//! Semantics follow Terraform's functions (from go-cty and Terraform's `lang/funcs`)
//! wherever a question is open, with these deliberate differences:
//!
//! - Where a list is expected a set is accepted too, read in its sorted order. Terraform
//!   refuses to index sets because their order is unspecified; here a set's order is
//!   defined ([`Value::total_cmp`]), so `element`, `index` and `slice` can honour it.
//!   Only `reverse` refuses a set: its result would have to stay a set, in the same order.
//! - `length` counts Unicode scalar values (`char`s), not grapheme clusters.
//! - `range` allows up to 1,048,576 elements rather than 1,024.
//! - `coalesce` returns the chosen argument unchanged, without unifying argument types.
//!
//! The evaluator does not convert arguments to the parameter types of the signature, so
//! the conversions a `list(string)` parameter implies (numbers and bools to strings) are
//! made here, element by element. docs/functions/collections.md is the reference for users.

use std::collections::BTreeMap;

use infra_compiler::diagnostic::suggest;
use infra_runtime::function::{CallContext, FunctionError, FunctionResult};
use infra_runtime::value::{format_number, quote, ValueMap};
use infra_runtime::{Kind, Value};

use super::{args, Implementation};

pub(crate) const FUNCTIONS: &[(&str, Implementation)] = &[
    ("length", length),
    ("concat", concat),
    ("flatten", flatten),
    ("distinct", distinct),
    ("keys", keys),
    ("values", values),
    ("lookup", lookup),
    ("merge", merge),
    ("contains", contains),
    ("element", element),
    ("index", index),
    ("range", range),
    ("zipmap", zipmap),
    ("slice", slice),
    ("sort", sort),
    ("reverse", reverse),
    ("setunion", setunion),
    ("setintersection", setintersection),
    ("setsubtract", setsubtract),
    ("one", one),
    ("alltrue", alltrue),
    ("anytrue", anytrue),
    ("sum", sum),
    ("coalesce", coalesce),
    ("compact", compact),
    ("chunklist", chunklist),
    ("transpose", transpose),
    ("coalescelist", coalescelist),
    ("matchkeys", matchkeys),
    ("setproduct", setproduct),
];

/// `range` refuses to build more elements than this, so that a typo such as
/// `range(0, 1e12)` fails instead of exhausting memory.
const MAX_RANGE: usize = 1024 * 1024;

/// How many keys a "no such key" message lists.
const KEYS_SHOWN: usize = 5;

// ------------------------------------------------------------------------------ helpers

fn count(n: usize) -> Value {
    Value::number(n as f64)
}

/// A list when `original` is a list, a set when it is a set: for functions whose result
/// has the type of their argument.
fn same_kind(original: &Value, items: Vec<Value>) -> Value {
    match original.kind {
        Kind::Set(_) => Value::set(items),
        _ => Value::list(items),
    }
}

/// An element as a string, converting numbers and bools as `list(string)` would.
fn string_of(item: &Value) -> Option<String> {
    match &item.kind {
        Kind::String(s) => Some(s.to_string()),
        Kind::Number(n) => Some(format_number(*n)),
        Kind::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// An element as a finite number, converting numeric strings as `list(number)` would.
fn number_of(item: &Value) -> Option<f64> {
    let n = match &item.kind {
        Kind::Number(n) => *n,
        Kind::String(s) => s.trim().parse().ok()?,
        _ => return None,
    };
    n.is_finite().then_some(n)
}

/// An element as a bool, converting `"true"` and `"false"`; `Some(None)` for null.
fn bool_of(item: &Value) -> Option<Option<bool>> {
    match &item.kind {
        Kind::Null => Some(None),
        Kind::Bool(b) => Some(Some(*b)),
        Kind::String(s) if &**s == "true" => Some(Some(true)),
        Kind::String(s) if &**s == "false" => Some(Some(false)),
        _ => None,
    }
}

/// "element 2 of argument 1 must be a string, found a list" (elements count from 0, as
/// indexes do in the language).
fn bad_element(argument: usize, position: usize, item: &Value, expected: &str) -> FunctionError {
    let found = args::a_type(item);
    FunctionError::new(format!("element {position} of argument {} must be {expected}, found {found}", argument + 1))
        .at(argument)
}

/// Argument `i` as a list of strings, converting numbers and bools.
fn strings(args: &[Value], i: usize) -> Result<Vec<String>, FunctionError> {
    let items = args::list(args, i)?;
    let convert = |(n, item): (usize, &Value)| string_of(item).ok_or_else(|| bad_element(i, n, item, "a string"));
    items.iter().enumerate().map(convert).collect()
}

/// Argument `i` as sorted, deduplicated elements, ready for binary search.
fn set_elements(args: &[Value], i: usize) -> Result<Vec<Value>, FunctionError> {
    let mut items = args::list(args, i)?.to_vec();
    items.sort_by(Value::total_cmp);
    items.dedup_by(|a, b| a.equals(b));
    Ok(items)
}

fn is_member(sorted: &[Value], item: &Value) -> bool {
    sorted.binary_search_by(|probe| probe.total_cmp(item)).is_ok()
}

/// Every argument as a list, requiring at least one (the checker does too, but a call
/// that was not checked may have none).
fn every_list(args: &[Value]) -> impl Iterator<Item = Result<&[Value], FunctionError>> {
    (0..args.len().max(1)).map(move |i| args::list(args, i))
}

// --------------------------------------------------------------------- size and joining

/// `length(value)`: characters of a string, elements of a list or set, keys of a map.
fn length(args: &[Value], _: &CallContext<'_>) -> FunctionResult {
    let n = match &args::any(args, 0)?.kind {
        Kind::String(s) => s.chars().count(),
        Kind::List(items) | Kind::Set(items) => items.len(),
        Kind::Map(entries) => entries.len(),
        _ => return Err(args::wrong(args, 0, "a string or a collection")),
    };
    Ok(count(n))
}

/// `concat(first, rest...)`: the elements of every list, in order.
fn concat(args: &[Value], _: &CallContext<'_>) -> FunctionResult {
    let mut out = Vec::new();
    for items in every_list(args) {
        out.extend_from_slice(items?);
    }
    Ok(Value::list(out))
}

/// `flatten(list)`: nested lists and sets replaced by their elements, at every depth.
fn flatten(args: &[Value], _: &CallContext<'_>) -> FunctionResult {
    let mut out = Vec::new();
    flatten_into(args::list(args, 0)?, &mut out);
    Ok(Value::list(out))
}

fn flatten_into(items: &[Value], out: &mut Vec<Value>) {
    for item in items {
        match item.as_list() {
            Some(inner) => flatten_into(inner, out),
            None => out.push(item.clone()),
        }
    }
}

/// `distinct(list)`: the first occurrence of each element, in order. A set is returned
/// as it is.
fn distinct(args: &[Value], _: &CallContext<'_>) -> FunctionResult {
    let list = args::any(args, 0)?;
    match &list.kind {
        Kind::Set(_) => Ok(list.clone()),
        Kind::List(items) => Ok(Value::list(first_occurrences(items))),
        _ => Err(args::wrong(args, 0, "a list")),
    }
}

/// The first occurrence of each distinct element, in order, in O(n log n): a stable sort
/// of the positions by value keeps equal values in position order, so the first of each
/// run is the first occurrence.
fn first_occurrences(items: &[Value]) -> Vec<Value> {
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by(|&a, &b| items[a].total_cmp(&items[b]));
    order.dedup_by(|later, earlier| items[*later].equals(&items[*earlier]));
    order.sort_unstable();
    order.into_iter().map(|i| items[i].clone()).collect()
}

// ------------------------------------------------------------------------------- maps

/// `keys(map)`: the keys, in lexical order.
fn keys(args: &[Value], _: &CallContext<'_>) -> FunctionResult {
    Ok(Value::list(args::map(args, 0)?.keys().map(Value::string).collect()))
}

/// `values(map)`: the values, in the lexical order of their keys.
fn values(args: &[Value], _: &CallContext<'_>) -> FunctionResult {
    Ok(Value::list(args::map(args, 0)?.values().cloned().collect()))
}

/// `lookup(map, key, default?)`: the value of `key`, else `default`; without a default a
/// missing key is an error.
fn lookup(args: &[Value], _: &CallContext<'_>) -> FunctionResult {
    let map = args::map(args, 0)?;
    let key = args::string(args, 1)?;
    match (map.get(&key), args.get(2)) {
        (Some(value), _) => Ok(value.clone()),
        (None, Some(default)) => Ok(default.clone()),
        (None, None) => Err(missing_key(map, &key)),
    }
}

/// `key "b" not found; the keys are "a", "c"`, with a suggestion when one is close.
fn missing_key(map: &ValueMap, key: &str) -> FunctionError {
    let keys = if map.is_empty() {
        "the map is empty".to_string()
    } else {
        let shown: Vec<String> = map.keys().take(KEYS_SHOWN).map(|k| quote(k)).collect();
        let more = map.len().saturating_sub(KEYS_SHOWN);
        let more = if more > 0 { format!(" and {more} more") } else { String::new() };
        format!("the keys are {}{more}", shown.join(", "))
    };
    let help = suggest(key, map.keys().map(|k| k.as_str()))
        .unwrap_or_else(|| "pass a third argument to return when the key is missing".to_string());
    FunctionError::new(format!("key {} not found; {keys}", quote(key))).at(1).with_help(help)
}

/// `merge(maps...)`: every entry of every map; a later key overrides an earlier one and
/// null arguments are skipped.
fn merge(args: &[Value], _: &CallContext<'_>) -> FunctionResult {
    let mut out = BTreeMap::new();
    for (i, arg) in args.iter().enumerate() {
        if !arg.is_null() {
            out.extend(args::map(args, i)?.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
    }
    Ok(Value::object(out.into_iter().collect()))
}

/// `zipmap(keys, values)`: a map from each key to the value at the same position; a
/// repeated key takes its last value.
fn zipmap(args: &[Value], _: &CallContext<'_>) -> FunctionResult {
    let keys = strings(args, 0)?;
    let values = args::list(args, 1)?;
    if keys.len() != values.len() {
        let (n_keys, n_values) = (keys.len(), values.len());
        let message = format!("{n_keys} keys but {n_values} values; both lists must have the same length");
        return Err(FunctionError::new(message).at(1));
    }
    Ok(Value::map(keys.into_iter().zip(values.iter().cloned()).collect()))
}

/// `transpose(map)`: for each string in the lists, the keys whose list holds it. Keys
/// are visited in order, so each resulting list is sorted, as Terraform sorts it.
fn transpose(args: &[Value], _: &CallContext<'_>) -> FunctionResult {
    let mut out: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for (key, list) in args::map(args, 0)? {
        let wrong = |found: &Value| {
            let message =
                format!("the value of key {} must be a list of strings, found {}", quote(key), args::a_type(found));
            FunctionError::new(message).at(0)
        };
        for item in list.as_list().ok_or_else(|| wrong(list))? {
            out.entry(string_of(item).ok_or_else(|| wrong(item))?).or_default().push(Value::string(key));
        }
    }
    Ok(Value::map(out.into_iter().map(|(k, v)| (k, Value::list(v))).collect()))
}

// ---------------------------------------------------------------------- searching lists

/// `contains(list, value)`: whether an element equals `value` (no conversion: `"1"` is not
/// `1`).
fn contains(args: &[Value], _: &CallContext<'_>) -> FunctionResult {
    let items = args::list(args, 0)?;
    let value = args::any(args, 1)?;
    Ok(Value::bool(items.iter().any(|item| item.equals(value))))
}

/// `element(list, index)`: the element at `index`, wrapping around past the end.
fn element(args: &[Value], _: &CallContext<'_>) -> FunctionResult {
    let items = args::list(args, 0)?;
    let index = args::integer(args, 1)?;
    if index < 0 {
        return Err(FunctionError::new(format!("the index must not be negative, found {index}"))
            .at(1)
            .with_help("for the last element, write `element(list, length(list) - 1)`"));
    }
    if items.is_empty() {
        return Err(FunctionError::new("cannot take an element of an empty list").at(0));
    }
    // `index` is at most 2^53, so it fits a u64 and the remainder fits a usize.
    Ok(items[(index as u64 % items.len() as u64) as usize].clone())
}

/// `index(list, value)`: the position of the first element equal to `value`.
fn index(args: &[Value], _: &CallContext<'_>) -> FunctionResult {
    let items = args::list(args, 0)?;
    let value = args::any(args, 1)?;
    match items.iter().position(|item| item.equals(value)) {
        Some(position) => Ok(count(position)),
        None => Err(FunctionError::new(format!("{value} is not in the list")).at(1)),
    }
}

/// `one(list)`: null for no element, the element for one, an error for more.
fn one(args: &[Value], _: &CallContext<'_>) -> FunctionResult {
    match args::list(args, 0)? {
        [] => Ok(Value::null()),
        [only] => Ok(only.clone()),
        items => Err(FunctionError::new(format!("the list must have zero or one elements, found {}", items.len()))
            .at(0)
            .with_help("`one` is for lists that hold at most one element, such as a conditional resource's")),
    }
}

// -------------------------------------------------------------------- building lists

/// `range(limit)`, `range(start, limit)`, `range(start, limit, step)`: numbers from
/// `start` (inclusive) towards `limit` (exclusive). Without a step it is 1, or -1 when
/// the limit is below the start.
fn range(args: &[Value], _: &CallContext<'_>) -> FunctionResult {
    let (start, limit, step) = range_bounds(args)?;
    if step == 0.0 {
        return Err(FunctionError::new("the step must not be zero").at(2));
    }
    if step > 0.0 && limit < start {
        return Err(FunctionError::new("the limit must not be less than the start when the step is positive").at(1));
    }
    if step < 0.0 && limit > start {
        return Err(FunctionError::new("the limit must not be greater than the start when the step is negative").at(1));
    }
    let n_elements = ((limit - start) / step).ceil();
    // The span can overflow to infinity (`range(-1e308, 1e308, 1)`), which fails here too.
    if n_elements.is_nan() || n_elements > MAX_RANGE as f64 {
        let message = format!("the range would have more than {MAX_RANGE} elements");
        return Err(
            FunctionError::new(message).with_help("use a smaller span between start and limit, or a larger step")
        );
    }
    // Multiplying rather than adding up keeps rounding errors from accumulating, and
    // rounding to the decimals of the arguments removes those left, so that
    // `range(0, 1, 0.1)` has 0.3 rather than 0.30000000000000004. Rounding can land an
    // element on the limit, which is then left out.
    let decimals = decimals(start).max(decimals(step));
    let before_limit = |n: &f64| if step > 0.0 { *n < limit } else { *n > limit };
    let numbers = (0..n_elements as usize).map(|i| round_to(start + i as f64 * step, decimals));
    Ok(Value::list(numbers.take_while(before_limit).map(Value::number).collect()))
}

/// How many decimal places `n` is written with: 2 for `0.25`. Rust writes floats
/// without an exponent, so a tiny number has hundreds.
fn decimals(n: f64) -> usize {
    n.to_string().split_once('.').map_or(0, |(_, fraction)| fraction.len())
}

/// `n` rounded to `decimals` places, when that is meaningful for an `f64` (up to 15
/// places, and while the scaled number is exact); `n` itself otherwise.
fn round_to(n: f64, decimals: usize) -> f64 {
    const EXACT: f64 = 9_007_199_254_740_992.0;
    if decimals == 0 || decimals > 15 {
        return n;
    }
    let scale = 10f64.powi(decimals as i32);
    let scaled = n * scale;
    if scaled.abs() < EXACT {
        scaled.round() / scale
    } else {
        n
    }
}

/// `(start, limit, step)` from one, two or three arguments, as Terraform reads them.
fn range_bounds(args: &[Value]) -> Result<(f64, f64, f64), FunctionError> {
    let finite = |i: usize| {
        let n = args::number(args, i)?;
        if n.is_finite() {
            Ok(n)
        } else {
            Err(FunctionError::new(format!("argument {} must be a finite number", i + 1)).at(i))
        }
    };
    let direction = |start: f64, limit: f64| if limit < start { -1.0 } else { 1.0 };
    match args.len() {
        1 => finite(0).map(|limit| (0.0, limit, direction(0.0, limit))),
        2 => {
            let (start, limit) = (finite(0)?, finite(1)?);
            Ok((start, limit, direction(start, limit)))
        }
        3 => Ok((finite(0)?, finite(1)?, finite(2)?)),
        n => Err(FunctionError::new(format!("`range` takes 1 to 3 arguments, found {n}"))),
    }
}

/// `slice(list, start, end)`: the elements from `start` (inclusive) to `end` (exclusive).
fn slice(args: &[Value], _: &CallContext<'_>) -> FunctionResult {
    let items = args::list(args, 0)?;
    let (start, end) = (args::integer(args, 1)?, args::integer(args, 2)?);
    let length = items.len();
    if start < 0 {
        return Err(FunctionError::new(format!("the start index must not be negative, found {start}")).at(1));
    }
    if end > length as i64 {
        let message = format!("the end index {end} is past the end of the list, whose length is {length}");
        return Err(FunctionError::new(message).at(2));
    }
    if start > end {
        return Err(FunctionError::new(format!("the start index {start} is greater than the end index {end}")).at(1));
    }
    Ok(same_kind(&args[0], items[start as usize..end as usize].to_vec()))
}

/// `sort(list)`: the strings in lexical (byte) order; numbers and bools are converted
/// to strings first, so `sort([10, 9])` is `["10", "9"]`.
fn sort(args: &[Value], _: &CallContext<'_>) -> FunctionResult {
    let mut strings = strings(args, 0)?;
    strings.sort_unstable();
    Ok(Value::list(strings.into_iter().map(Value::string).collect()))
}

/// `reverse(list)`: the elements in reverse order.
fn reverse(args: &[Value], _: &CallContext<'_>) -> FunctionResult {
    match &args::any(args, 0)?.kind {
        Kind::List(items) => Ok(Value::list(items.iter().rev().cloned().collect())),
        Kind::Set(_) => Err(FunctionError::new("cannot reverse a set: its elements are always in sorted order")
            .at(0)
            .with_help("convert it to a list first: `reverse(tolist(...))`")),
        _ => Err(args::wrong(args, 0, "a list")),
    }
}

/// `compact(list)`: the strings that are neither null nor empty.
fn compact(args: &[Value], _: &CallContext<'_>) -> FunctionResult {
    let mut out = Vec::new();
    for (position, item) in args::list(args, 0)?.iter().enumerate() {
        if item.is_null() {
            continue;
        }
        let string = string_of(item).ok_or_else(|| bad_element(0, position, item, "a string"))?;
        if !string.is_empty() {
            out.push(Value::string(string));
        }
    }
    Ok(Value::list(out))
}

/// `chunklist(list, size)`: consecutive lists of `size` elements, the last maybe shorter.
/// As in Terraform, a size of 0 means one chunk holding the whole list.
fn chunklist(args: &[Value], _: &CallContext<'_>) -> FunctionResult {
    let items = args::list(args, 0)?;
    let size = args::integer(args, 1)?;
    if size < 0 {
        return Err(FunctionError::new(format!("the chunk size must not be negative, found {size}")).at(1));
    }
    if items.is_empty() {
        return Ok(Value::list(Vec::new()));
    }
    let size = if size == 0 { items.len() } else { usize::try_from(size).unwrap_or(usize::MAX) };
    Ok(Value::list(items.chunks(size).map(|chunk| Value::list(chunk.to_vec())).collect()))
}

// ------------------------------------------------------------------------------- sets

/// `setunion(first, rest...)`: the elements that are in any of the sets.
fn setunion(args: &[Value], _: &CallContext<'_>) -> FunctionResult {
    let mut all = Vec::new();
    for items in every_list(args) {
        all.extend_from_slice(items?);
    }
    Ok(Value::set(all))
}

/// `setintersection(first, rest...)`: the elements that are in every one of the sets.
fn setintersection(args: &[Value], _: &CallContext<'_>) -> FunctionResult {
    let mut result = set_elements(args, 0)?;
    for i in 1..args.len() {
        let other = set_elements(args, i)?;
        result.retain(|item| is_member(&other, item));
    }
    Ok(Value::set(result))
}

/// `setsubtract(a, b)`: the elements of `a` that are not in `b`.
fn setsubtract(args: &[Value], _: &CallContext<'_>) -> FunctionResult {
    let mut result = set_elements(args, 0)?;
    let removed = set_elements(args, 1)?;
    result.retain(|item| !is_member(&removed, item));
    Ok(Value::set(result))
}

// -------------------------------------------------------------------------- reductions

/// Argument 0 as bools; null elements are `None`.
fn bools(args: &[Value]) -> Result<Vec<Option<bool>>, FunctionError> {
    let items = args::list(args, 0)?;
    let convert = |(n, item): (usize, &Value)| bool_of(item).ok_or_else(|| bad_element(0, n, item, "a bool"));
    items.iter().enumerate().map(convert).collect()
}

/// `alltrue(list)`: whether every element is true; a null element is not, as in
/// Terraform.
fn alltrue(args: &[Value], _: &CallContext<'_>) -> FunctionResult {
    Ok(Value::bool(bools(args)?.into_iter().all(|b| b == Some(true))))
}

/// `anytrue(list)`: whether any element is true.
fn anytrue(args: &[Value], _: &CallContext<'_>) -> FunctionResult {
    Ok(Value::bool(bools(args)?.into_iter().any(|b| b == Some(true))))
}

/// `sum(list)`: the total of the numbers; numeric strings convert. An empty list is an
/// error, as in Terraform, since its sum's type could not be known.
fn sum(args: &[Value], _: &CallContext<'_>) -> FunctionResult {
    let items = args::list(args, 0)?;
    if items.is_empty() {
        return Err(FunctionError::new("cannot sum an empty list").at(0));
    }
    let number = |(n, item): (usize, &Value)| number_of(item).ok_or_else(|| bad_element(0, n, item, "a number"));
    let total: f64 = items.iter().enumerate().map(number).sum::<Result<f64, _>>()?;
    if !total.is_finite() {
        return Err(FunctionError::new("the sum is too large to represent").at(0));
    }
    Ok(Value::number(total))
}

/// `coalesce(first, rest...)`: the first argument that is neither null nor `""`.
fn coalesce(args: &[Value], _: &CallContext<'_>) -> FunctionResult {
    let chosen = args.iter().find(|arg| !arg.is_null() && arg.as_str() != Some(""));
    chosen.cloned().ok_or_else(|| {
        FunctionError::new("every argument is null or an empty string")
            .with_help("add a last argument that is always set, as the fallback")
    })
}

/// `coalescelist(first, rest...)`: the first argument that is a non-empty list.
fn coalescelist(args: &[Value], _: &CallContext<'_>) -> FunctionResult {
    for (i, arg) in args.iter().enumerate() {
        let items = args::list(args, i).map_err(|_| {
            FunctionError::new(format!("argument {} must be a list, found {}", i + 1, args::a_type(arg))).at(i)
        })?;
        if !items.is_empty() {
            return Ok(arg.clone());
        }
    }
    Err(FunctionError::new("every argument is an empty list")
        .with_help("add a last argument that is never empty, as the fallback"))
}

/// `matchkeys(values, keys, searchset)`: the values whose key (at the same index) is in
/// the search set, in order. Keys and the search set compare as strings when either
/// holds strings, as Terraform unifies their types.
fn matchkeys(args: &[Value], _: &CallContext<'_>) -> FunctionResult {
    let values = args::list(args, 0)?;
    let keys = args::list(args, 1)?;
    let searchset = args::list(args, 2)?;
    if values.len() != keys.len() {
        return Err(FunctionError::new(format!(
            "`values` has {} elements but `keys` has {}: they must be as long",
            values.len(),
            keys.len()
        ))
        .at(1)
        .with_help("each key belongs to the value at the same index"));
    }
    let as_strings = keys.iter().chain(searchset).any(|item| matches!(item.kind, Kind::String(_)));
    let normal = |item: &Value| match (as_strings, string_of(item)) {
        (true, Some(text)) => Value::string(text),
        _ => item.clone(),
    };
    let mut search: Vec<Value> = searchset.iter().map(normal).collect();
    search.sort_by(Value::total_cmp);
    let kept = values.iter().zip(keys).filter(|(_, key)| is_member(&search, &normal(key))).map(|(v, _)| v.clone());
    Ok(Value::list(kept.collect()))
}

/// Products larger than this are refused, so that a typo cannot exhaust memory.
const MAX_PRODUCT: usize = 1024 * 1024;

/// `setproduct(a, b, rest...)`: every combination of one element of each collection, in
/// order (the first collection varies slowest); a set when any argument is a set.
fn setproduct(args: &[Value], _: &CallContext<'_>) -> FunctionResult {
    let collections: Vec<&[Value]> = every_list(args).collect::<Result<_, _>>()?;
    let size = collections.iter().try_fold(1usize, |size, items| size.checked_mul(items.len()));
    if size.is_none_or(|size| size > MAX_PRODUCT) {
        return Err(FunctionError::new(format!("the product would have more than {MAX_PRODUCT} elements"))
            .with_help("check the sizes of the collections"));
    }
    let mut product: Vec<Vec<Value>> = vec![Vec::new()];
    for items in &collections {
        product = product
            .into_iter()
            .flat_map(|prefix| {
                items.iter().map(move |item| {
                    let mut combination = prefix.clone();
                    combination.push(item.clone());
                    combination
                })
            })
            .collect();
    }
    let combinations: Vec<Value> = product.into_iter().map(Value::list).collect();
    Ok(match args.iter().any(|arg| matches!(arg.kind, Kind::Set(_))) {
        true => Value::set(combinations),
        false => Value::list(combinations),
    })
}
