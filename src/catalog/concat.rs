//! Concatenating arrays along one axis: what reads spanning several files need.

use crate::model::{Array, ArrayValues};

fn concat_vec<T: Clone>(parts: &[(&Vec<T>, usize)], outer: usize, inner: usize) -> Vec<T> {
    let total: usize = parts.iter().map(|(v, _)| v.len()).sum();
    let mut out = Vec::with_capacity(total);
    for o in 0..outer {
        for (v, along) in parts {
            let block = along * inner;
            out.extend_from_slice(&v[o * block..(o + 1) * block]);
        }
    }
    out
}

macro_rules! concat_variant {
    ($parts:expr, $outer:expr, $inner:expr, $($variant:ident),*) => {
        match &$parts[0].0.values {
            $(ArrayValues::$variant(_) => {
                let vs: Option<Vec<(&Vec<_>, usize)>> = $parts
                    .iter()
                    .map(|(a, along)| match &a.values {
                        ArrayValues::$variant(v) => Some((v, *along)),
                        _ => None,
                    })
                    .collect();
                vs.map(|vs| ArrayValues::$variant(concat_vec(&vs, $outer, $inner)))
            })*
        }
    };
}

/// Joins arrays of equal shape except along `axis`. `None` if types or shapes differ.
pub fn concat(parts: Vec<Array>, axis: usize) -> Option<Array> {
    let first = parts.first()?;
    let rank = first.shape.len();
    if axis >= rank
        || parts.iter().any(|p| {
            p.shape.len() != rank || (0..rank).any(|d| d != axis && p.shape[d] != first.shape[d])
        })
    {
        return None;
    }
    let outer: usize = first.shape[..axis].iter().product();
    let inner: usize = first.shape[axis + 1..].iter().product();
    let mut shape = first.shape.clone();
    shape[axis] = parts.iter().map(|p| p.shape[axis]).sum();
    let pairs: Vec<(&Array, usize)> = parts.iter().map(|p| (p, p.shape[axis])).collect();
    let values = concat_variant!(
        pairs, outer, inner, I8, U8, I16, U16, I32, U32, I64, U64, F32, F64, Char, Str
    )?;
    Some(Array::new(shape, values))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn along_first_and_inner_axes() {
        let a = Array::new(vec![1, 2], ArrayValues::I32(vec![1, 2]));
        let b = Array::new(vec![2, 2], ArrayValues::I32(vec![3, 4, 5, 6]));
        let c = concat(vec![a.clone(), b], 0).unwrap();
        assert_eq!(c.shape, vec![3, 2]);
        assert_eq!(c.values, ArrayValues::I32(vec![1, 2, 3, 4, 5, 6]));
        let d = Array::new(vec![1, 1], ArrayValues::I32(vec![9]));
        let e = concat(vec![a.clone(), d], 1).unwrap();
        assert_eq!(e.shape, vec![1, 3]);
        assert_eq!(e.values, ArrayValues::I32(vec![1, 2, 9]));
        let x = Array::new(vec![2, 1], ArrayValues::F32(vec![1.0, 2.0]));
        let y = Array::new(vec![2, 2], ArrayValues::F32(vec![3.0, 4.0, 5.0, 6.0]));
        let z = concat(vec![x, y], 1).unwrap();
        assert_eq!(
            z.values,
            ArrayValues::F32(vec![1.0, 3.0, 4.0, 2.0, 5.0, 6.0])
        );
        assert!(
            concat(
                vec![a, Array::new(vec![1, 2], ArrayValues::F32(vec![0.0, 0.0]))],
                0
            )
            .is_none()
        );
    }
}
