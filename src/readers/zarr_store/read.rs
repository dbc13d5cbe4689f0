//! Reading a hyperslab of a Zarr array: zarrs decodes the bounding box of the
//! selection (only the chunks it touches) on the blocking pool, strided selections are
//! then picked from it.

use std::sync::Arc;

use zarrs::array::chunk_cache::{ChunkCache, ChunkCacheLruSizeLimit, ChunkCacheTypeDecoded};
use zarrs::array::{ArraySubset, CodecOptions};

use super::attributes::Element;
use super::model_map::ServedArray;
use crate::model::{Array, ArrayValues, DataType};
use crate::readers::ReadError;
use crate::storage::Location;
use crate::subset::{DimSlice, Hyperslab};

/// An array with its decoded chunks, bounded by bytes: DAP, EDR and WMS reading the
/// same chunk decode it once.
pub type CachedArray = ChunkCacheLruSizeLimit<ChunkCacheTypeDecoded>;

pub async fn read(
    array: &Arc<CachedArray>,
    served: &ServedArray,
    slab: &Hyperslab,
    location: &Location,
) -> Result<Array, ReadError> {
    slab.validate(&served.shape)?;
    let shape = slab.shape();
    let bbox: Vec<usize> = slab
        .dims
        .iter()
        .map(|d| match d.count {
            0 => 0,
            n => (n - 1) * d.stride + 1,
        })
        .collect();
    let subset = ArraySubset::new_with_start_shape(
        slab.dims.iter().map(|d| d.start as u64).collect(),
        bbox.iter().map(|&n| n as u64).collect(),
    )
    .map_err(|e| ReadError::Internal(e.to_string()))?;
    let values = if bbox.contains(&0) {
        empty(served.element.dtype())
    } else {
        let (array, element) = (array.clone(), served.element);
        tokio::task::spawn_blocking(move || retrieve(&array, &subset, element))
            .await
            .map_err(|e| ReadError::Internal(e.to_string()))?
            .map_err(|e| match e {
                Retrieve::Zarrs(e) => ReadError::Format {
                    location: location.to_string(),
                    message: format!("{}: {e}", served.node_path),
                },
                Retrieve::Unsupported(t) => ReadError::Unsupported(format!("{t:?} Zarr arrays")),
            })?
    };
    let strided = slab.dims.iter().any(|d| d.stride > 1 && d.count > 1);
    let values = if strided && !bbox.contains(&0) {
        let within = Hyperslab::new(
            slab.dims
                .iter()
                .map(|d| DimSlice {
                    start: 0,
                    stride: d.stride,
                    count: d.count,
                })
                .collect(),
        );
        pick(values, &within.linear_indices(&bbox))
    } else {
        values
    };
    if values.len() != shape.iter().product::<usize>() {
        return Err(ReadError::Format {
            location: location.to_string(),
            message: format!("{}: decoded a wrong number of values", served.node_path),
        });
    }
    Ok(Array::new(shape, values))
}

enum Retrieve {
    Zarrs(zarrs::array::ArrayError),
    Unsupported(DataType),
}

/// Decodes `subset` (blocking: runs on the blocking pool).
fn retrieve(
    array: &CachedArray,
    subset: &ArraySubset,
    element: Element,
) -> Result<ArrayValues, Retrieve> {
    let options = CodecOptions::default();
    macro_rules! get {
        ($t:ty, $variant:ident) => {
            ArrayValues::$variant(
                array
                    .retrieve_array_subset::<Vec<$t>>(subset, &options)
                    .map_err(Retrieve::Zarrs)?,
            )
        };
    }
    Ok(match element {
        Element::Bool => {
            let b: Vec<bool> = array
                .retrieve_array_subset(subset, &options)
                .map_err(Retrieve::Zarrs)?;
            ArrayValues::U8(b.into_iter().map(u8::from).collect())
        }
        Element::String => get!(String, Str),
        Element::Number(t) => match t {
            DataType::I8 => get!(i8, I8),
            DataType::U8 => get!(u8, U8),
            DataType::I16 => get!(i16, I16),
            DataType::U16 => get!(u16, U16),
            DataType::I32 => get!(i32, I32),
            DataType::U32 => get!(u32, U32),
            DataType::I64 => get!(i64, I64),
            DataType::U64 => get!(u64, U64),
            DataType::F32 => get!(f32, F32),
            DataType::F64 => get!(f64, F64),
            DataType::Char | DataType::String => return Err(Retrieve::Unsupported(t)),
        },
    })
}

fn empty(dtype: DataType) -> ArrayValues {
    match dtype {
        DataType::String => ArrayValues::Str(Vec::new()),
        t => ArrayValues::from_ne_bytes(t, &[]).unwrap_or(ArrayValues::U8(Vec::new())),
    }
}

/// The values at `indices` (row-major positions).
fn pick(values: ArrayValues, indices: &[usize]) -> ArrayValues {
    macro_rules! take {
        ($($variant:ident),*) => {
            match values {
                $(ArrayValues::$variant(v) => {
                    ArrayValues::$variant(indices.iter().map(|&i| v[i].clone()).collect())
                })*
            }
        };
    }
    take!(I8, U8, I16, U16, I32, U32, I64, U64, F32, F64, Char, Str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_strided_elements() {
        let v = ArrayValues::I16((0..12).collect());
        let slab = Hyperslab::new(vec![
            DimSlice {
                start: 0,
                stride: 2,
                count: 2,
            },
            DimSlice {
                start: 0,
                stride: 3,
                count: 2,
            },
        ]);
        // A 3x4 bounding box: rows 0 and 2, columns 0 and 3.
        assert_eq!(
            pick(v, &slab.linear_indices(&[3, 4])),
            ArrayValues::I16(vec![0, 3, 8, 11])
        );
    }
}
