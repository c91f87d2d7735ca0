//! A Kingman coalescent genealogy of the simulated haplotypes.

use std::fmt::Write as _;

use crate::rng::Rng;

/// A rooted binary tree: leaves `0..n` are the haplotypes, internal nodes `n..2n-1` are
/// coalescences in time order, the last node is the root. Time runs backwards from the
/// present (leaves at 0) in coalescent units: two lineages merge at rate 1, so the expected
/// time to the common ancestor of a pair is 1 and its expected path length 2.
#[derive(Debug, Clone)]
pub struct Genealogy {
    /// Parent of each node; the root has none.
    parent: Vec<Option<u32>>,
    /// Age of each node.
    time: Vec<f64>,
    /// For each node, which leaves lie below it (one bit per leaf).
    below: Vec<Vec<u64>>,
    leaves: usize,
}

impl Genealogy {
    /// Draws the genealogy of `leaves` (at least 2) haplotypes: while `k` lineages remain, the
    /// next coalescence comes after an exponential time of rate `k(k-1)/2` and merges a
    /// uniformly chosen pair.
    pub(crate) fn kingman(leaves: usize, rng: &mut Rng) -> Genealogy {
        assert!(leaves >= 2, "a genealogy needs two leaves");
        let nodes = 2 * leaves - 1;
        let words = leaves.div_ceil(64);
        let mut parent = vec![None; nodes];
        let mut time = vec![0.0; nodes];
        let mut below = vec![vec![0u64; words]; nodes];
        for (leaf, bits) in below.iter_mut().enumerate().take(leaves) {
            bits[leaf / 64] |= 1 << (leaf % 64);
        }
        let mut lineages: Vec<u32> = (0..leaves as u32).collect();
        let mut now = 0.0;
        for node in leaves..nodes {
            let k = lineages.len() as f64;
            now += -(1.0 - rng.unit()).ln() / (k * (k - 1.0) / 2.0);
            let first = lineages.swap_remove(rng.below(lineages.len() as u64) as usize);
            let second = lineages.swap_remove(rng.below(lineages.len() as u64) as usize);
            for child in [first, second] {
                parent[child as usize] = Some(node as u32);
                let child_bits = below[child as usize].clone();
                for (word, bits) in below[node].iter_mut().zip(child_bits) {
                    *word |= bits;
                }
            }
            time[node] = now;
            lineages.push(node as u32);
        }
        Genealogy { parent, time, below, leaves }
    }

    /// Number of haplotypes (leaves).
    pub fn leaves(&self) -> usize {
        self.leaves
    }

    /// Number of nodes (`2 × leaves − 1`); the root is the last.
    pub fn nodes(&self) -> usize {
        self.parent.len()
    }

    /// Length of the branch above `node` (0 for the root).
    pub fn branch_length(&self, node: usize) -> f64 {
        self.parent[node].map_or(0.0, |p| self.time[p as usize] - self.time[node])
    }

    /// Sum of all branch lengths.
    pub fn total_length(&self) -> f64 {
        (0..self.nodes()).map(|n| self.branch_length(n)).sum()
    }

    /// Whether haplotype `leaf` lies below `node` (and so carries every mutation on the branch
    /// above it).
    pub fn is_below(&self, leaf: usize, node: usize) -> bool {
        self.below[node][leaf / 64] >> (leaf % 64) & 1 == 1
    }

    /// The nodes whose branches lead from the root to `leaf`, as a mask over all nodes.
    pub(crate) fn lineage_of(&self, leaf: usize) -> Vec<bool> {
        let mut on_path = vec![false; self.nodes()];
        let mut node = leaf;
        while let Some(p) = self.parent[node] {
            on_path[node] = true;
            node = p as usize;
        }
        on_path
    }

    /// Picks a branch with probability proportional to its length, from a uniform number in
    /// `[0, total)` and the running sums of branch lengths (see [`Genealogy::cumulative`]).
    pub(crate) fn pick_branch(cumulative: &[f64], draw: f64) -> u32 {
        let i = cumulative.partition_point(|&c| c <= draw);
        i.min(cumulative.len() - 1) as u32
    }

    /// Running sums of branch lengths in node order (the root's is 0).
    pub(crate) fn cumulative(&self) -> Vec<f64> {
        let mut sum = 0.0;
        (0..self.nodes())
            .map(|n| {
                sum += self.branch_length(n);
                sum
            })
            .collect()
    }

    /// The tree in Newick format: leaves named by `leaf_name`, internal nodes `nodeN`
    /// (N = node index, as in the truth file's `branch` column), branch lengths in coalescent
    /// units.
    pub fn newick(&self, leaf_name: impl Fn(usize) -> String) -> String {
        let mut children = vec![Vec::new(); self.nodes()];
        for (node, parent) in self.parent.iter().enumerate() {
            if let Some(p) = parent {
                children[*p as usize].push(node);
            }
        }
        let mut out = String::new();
        self.write_newick(self.nodes() - 1, &children, &leaf_name, &mut out);
        out.push_str(";\n");
        out
    }

    fn write_newick(
        &self,
        node: usize,
        children: &[Vec<usize>],
        leaf_name: &impl Fn(usize) -> String,
        out: &mut String,
    ) {
        if node < self.leaves {
            out.push_str(&leaf_name(node));
        } else {
            out.push('(');
            for (i, &child) in children[node].iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                self.write_newick(child, children, leaf_name, out);
            }
            let _ = write!(out, ")node{node}");
        }
        if self.parent[node].is_some() {
            let _ = write!(out, ":{:.6}", self.branch_length(node));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_leaf_is_below_the_root_and_clades_nest() {
        let tree = Genealogy::kingman(7, &mut Rng::new(5, 0));
        let root = tree.nodes() - 1;
        assert!((0..7).all(|leaf| tree.is_below(leaf, root)));
        for node in 0..tree.nodes() - 1 {
            assert!(tree.branch_length(node) > 0.0);
            let p = tree.parent[node].unwrap() as usize;
            assert!((0..7).all(|leaf| !tree.is_below(leaf, node) || tree.is_below(leaf, p)));
        }
        let path = tree.lineage_of(3);
        assert!(path[3] && !path[root]);
        for (node, &on_path) in path.iter().enumerate() {
            assert_eq!(on_path, node != root && tree.is_below(3, node));
        }
    }

    #[test]
    fn mean_pairwise_coalescence_time_is_one() {
        // Two leaves: the time to the ancestor is exponential with mean 1.
        let mut rng = Rng::new(9, 0);
        let runs = 4_000;
        let mean = (0..runs).map(|_| Genealogy::kingman(2, &mut rng).time[2]).sum::<f64>()
            / f64::from(runs);
        assert!((0.93..1.07).contains(&mean), "mean {mean}");
    }

    #[test]
    fn newick_names_every_leaf_once() {
        let tree = Genealogy::kingman(5, &mut Rng::new(1, 0));
        let text = tree.newick(|i| format!("hap{:02}", i + 1));
        for i in 1..=5 {
            assert_eq!(text.matches(&format!("hap{i:02}:")).count(), 1, "{text}");
        }
        assert!(text.ends_with(")node8;\n"), "{text}");
    }
}
