//! A line diff (longest common subsequence) of two texts: how a mapping version differs from
//! the active one.

/// One line of a diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line<'a> {
    /// In both.
    Same(&'a str),
    /// Only in the old text.
    Removed(&'a str),
    /// Only in the new text.
    Added(&'a str),
}

/// Texts longer than this (in lines, each side) are compared as removed-then-added: the LCS
/// table is quadratic, and a mapping document is far shorter.
const MAX_LINES: usize = 5_000;

/// The lines turning `old` into `new`, in order.
pub fn diff<'a>(old: &'a str, new: &'a str) -> Vec<Line<'a>> {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    // The common head and tail need no table.
    let head = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let tail = (a[head..].iter().rev())
        .zip(b[head..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (a_mid, b_mid) = (&a[head..a.len() - tail], &b[head..b.len() - tail]);
    let mut lines: Vec<Line> = a[..head].iter().map(|l| Line::Same(l)).collect();
    if a_mid.len() > MAX_LINES || b_mid.len() > MAX_LINES {
        lines.extend(a_mid.iter().map(|l| Line::Removed(l)));
        lines.extend(b_mid.iter().map(|l| Line::Added(l)));
    } else {
        lines.extend(middle(a_mid, b_mid));
    }
    lines.extend(a[a.len() - tail..].iter().map(|l| Line::Same(l)));
    lines
}

fn middle<'a>(a: &[&'a str], b: &[&'a str]) -> Vec<Line<'a>> {
    let (n, m) = (a.len(), b.len());
    // lcs[i][j]: the longest common subsequence of a[i..] and b[j..].
    let mut lcs = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut lines = Vec::with_capacity(n + m);
    while i < n && j < m {
        if a[i] == b[j] {
            lines.push(Line::Same(a[i]));
            i += 1;
            j += 1;
        } else if lcs[i + 1][j] >= lcs[i][j + 1] {
            lines.push(Line::Removed(a[i]));
            i += 1;
        } else {
            lines.push(Line::Added(b[j]));
            j += 1;
        }
    }
    lines.extend(a[i..].iter().map(|l| Line::Removed(l)));
    lines.extend(b[j..].iter().map(|l| Line::Added(l)));
    lines
}

/// Whether the texts differ at all.
pub fn changed(lines: &[Line<'_>]) -> bool {
    lines.iter().any(|l| !matches!(l, Line::Same(_)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_texts_are_all_the_same() {
        let lines = diff("a\nb", "a\nb");
        assert_eq!(lines, vec![Line::Same("a"), Line::Same("b")]);
        assert!(!changed(&lines));
    }

    #[test]
    fn a_changed_line_is_removed_then_added_between_the_common_ones() {
        let old = "{\n  \"order_to_cash\": true,\n  \"ledger\": true\n}";
        let new = "{\n  \"order_to_cash\": false,\n  \"ledger\": true\n}";
        assert_eq!(
            diff(old, new),
            vec![
                Line::Same("{"),
                Line::Removed("  \"order_to_cash\": true,"),
                Line::Added("  \"order_to_cash\": false,"),
                Line::Same("  \"ledger\": true"),
                Line::Same("}"),
            ]
        );
    }

    #[test]
    fn keeps_the_longest_common_part_when_lines_move() {
        let lines = diff("a\nb\nc\nd", "b\nc\nx\nd\ne");
        assert_eq!(
            lines,
            vec![
                Line::Removed("a"),
                Line::Same("b"),
                Line::Same("c"),
                Line::Added("x"),
                Line::Same("d"),
                Line::Added("e"),
            ]
        );
    }

    #[test]
    fn an_empty_side_is_all_added_or_all_removed() {
        assert_eq!(diff("", "a"), vec![Line::Added("a")]);
        assert_eq!(diff("a", ""), vec![Line::Removed("a")]);
    }
}
