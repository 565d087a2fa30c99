//! Field names read as words (`OrderCustomerMail` → order, customer, mail) and the concepts a
//! word names, with the synonyms shops use for them: the "name" signal of a suggestion.

use super::shapes::Shape;

/// Something an order field can hold, known by several names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Concept {
    /// What it is called in a reason (`email`).
    pub(crate) name: &'static str,
    /// The words (lower case, without separators) that name it.
    pub(crate) words: &'static [&'static str],
    /// The shape its values usually have.
    pub(crate) shape: Option<Shape>,
    /// Whether a statement descriptor suffix may show it (a short reference a buyer recognises).
    pub(crate) descriptor: bool,
}

const fn concept(
    name: &'static str,
    words: &'static [&'static str],
    shape: Option<Shape>,
    descriptor: bool,
) -> Concept {
    Concept {
        name,
        words,
        shape,
        descriptor,
    }
}

/// The concepts, most specific first: a name's first match is the one reported.
#[rustfmt::skip]
pub(crate) const CONCEPTS: &[Concept] = &[
    concept("email", &["email", "mail", "emailaddress"], Some(Shape::Email), false),
    concept("phone", &["phone", "telephone", "tel", "mobile", "cell", "cellphone"], Some(Shape::Phone), false),
    concept("postcode", &["postcode", "zip", "zipcode", "postal", "postalcode"], Some(Shape::Postcode), false),
    concept("country", &["country", "countrycode", "nation"], Some(Shape::Country), false),
    concept("currency", &["currency", "currencycode", "ccy"], Some(Shape::Currency), false),
    concept("reference", &["reference", "ref", "number", "no", "nr", "num", "invoice", "invoicenumber", "po", "ponumber", "purchaseorder"], Some(Shape::Reference), true),
    concept("coupon", &["coupon", "voucher", "promo", "promocode", "discountcode", "couponcode"], None, false),
    concept("note", &["note", "notes", "comment", "comments", "remark", "remarks", "message", "instructions", "memo"], Some(Shape::Text), false),
    concept("amount", &["amount", "price", "total", "sum", "cost", "fee", "discount", "tip"], Some(Shape::Amount), false),
    concept("date", &["date", "datetime", "timestamp", "when", "time", "created", "modified", "updated", "day"], Some(Shape::Date), false),
    concept("identifier", &["id", "guid", "uuid"], None, false),
    concept("campaign", &["campaign", "utm", "source", "channel", "referrer", "medium", "affiliate"], None, false),
    concept("tax id", &["vat", "vatnumber", "vatid", "taxid", "tin"], None, false),
    concept("loyalty", &["loyalty", "tier", "points", "membership", "segment"], None, false),
    concept("company", &["company", "organization", "organisation", "business"], None, false),
    concept("delivery", &["delivery", "carrier", "shippingmethod", "dispatch"], None, false),
    concept("gift", &["gift", "giftwrap", "giftmessage"], None, false),
    concept("name", &["name", "fullname"], Some(Shape::Text), false),
];

/// How a field's name matched a concept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NameMatch {
    /// The concept.
    pub(crate) concept: Concept,
    /// The word of the name (or two joined: `zip` `code` → `zipcode`) that matched.
    pub(crate) word: String,
    /// The synonym it matched.
    pub(crate) synonym: &'static str,
    /// Whether it matched only as a near spelling (`refrence`).
    pub(crate) fuzzy: bool,
}

impl NameMatch {
    /// The reason sentence: `name matches 'email' (synonym of 'mail')`.
    pub(crate) fn reason(&self) -> String {
        let concept = self.concept.name;
        if self.fuzzy {
            format!(
                "name is close to '{}' ('{}'), a word for '{concept}'",
                self.synonym, self.word
            )
        } else if self.synonym == concept {
            format!("name matches '{concept}'")
        } else {
            format!("name matches '{concept}' (synonym of '{}')", self.synonym)
        }
    }
}

/// Words too common in Kentico's column names to say anything (`OrderItemGiftNote`).
const NOISE: &[&str] = &[
    "order", "item", "items", "customer", "address", "sku", "custom", "field",
];

/// The words of a name: camel case, digits, `_`, `-`, spaces and other punctuation split it
/// (`OrderGUID` → order, guid; `SKUNumber` → sku, number; `utm_source` → utm, source).
pub(crate) fn words(name: &str) -> Vec<String> {
    let chars: Vec<char> = name.chars().collect();
    let mut words = Vec::new();
    let mut current = String::new();
    for (index, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            push(&mut words, &mut current);
            continue;
        }
        let previous = index.checked_sub(1).and_then(|i| chars.get(i)).copied();
        let next = chars.get(index + 1).copied();
        let boundary = match previous {
            Some(p) if p.is_alphanumeric() => {
                (p.is_lowercase() && c.is_uppercase())
                    || (p.is_alphabetic() != c.is_alphabetic())
                    || (p.is_uppercase()
                        && c.is_uppercase()
                        && next.is_some_and(char::is_lowercase))
            }
            _ => false,
        };
        if boundary {
            push(&mut words, &mut current);
        }
        current.extend(c.to_lowercase());
    }
    push(&mut words, &mut current);
    words
}

fn push(words: &mut Vec<String>, current: &mut String) {
    if !current.is_empty() {
        words.push(std::mem::take(current));
    }
}

/// The concept a field name names, if any: exact words (and adjacent pairs joined) first, then
/// near spellings of words of five letters or more.
pub(crate) fn match_name(name: &str) -> Option<NameMatch> {
    let words: Vec<String> = words(name)
        .into_iter()
        .filter(|word| !NOISE.contains(&word.as_str()))
        .collect();
    let pairs: Vec<String> = words.windows(2).map(|pair| pair.concat()).collect();
    let exact = [&pairs, &words].into_iter().find_map(|group| {
        CONCEPTS.iter().find_map(|concept| {
            group.iter().find_map(|word| {
                let synonym = concept.words.iter().find(|s| **s == word.as_str())?;
                Some(NameMatch {
                    concept: *concept,
                    word: word.clone(),
                    synonym,
                    fuzzy: false,
                })
            })
        })
    });
    exact.or_else(|| {
        CONCEPTS.iter().find_map(|concept| {
            words
                .iter()
                .filter(|word| word.chars().count() >= 5)
                .find_map(|word| {
                    let synonym = concept
                        .words
                        .iter()
                        .find(|s| s.len() >= 5 && strsim::damerau_levenshtein(s, word) == 1)?;
                    Some(NameMatch {
                        concept: *concept,
                        word: word.clone(),
                        synonym,
                        fuzzy: true,
                    })
                })
        })
    })
}

/// `OrderCustomerMail` → `order_customer_mail`: the name's words joined by `_`.
pub(crate) fn snake_case(name: &str) -> String {
    words(name).join("_")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_split_at_case_digits_and_punctuation() {
        assert_eq!(words("OrderCustomerMail"), ["order", "customer", "mail"]);
        assert_eq!(words("SKUNumber"), ["sku", "number"]);
        assert_eq!(words("OrderGUID"), ["order", "guid"]);
        assert_eq!(words("utm_source"), ["utm", "source"]);
        assert_eq!(words("Gift-Wrap 2"), ["gift", "wrap", "2"]);
        assert_eq!(snake_case("OrderPONumber"), "order_po_number");
        assert_eq!(snake_case("Field1"), "field_1");
        assert_eq!(snake_case("__"), "");
    }

    #[test]
    fn a_synonym_names_its_concept_and_says_which_word_matched() {
        let found = match_name("OrderCustomerMail").unwrap();
        assert_eq!(found.concept.name, "email");
        assert_eq!(found.reason(), "name matches 'email' (synonym of 'mail')");
        assert_eq!(
            match_name("ContactEmail").unwrap().reason(),
            "name matches 'email'"
        );
        assert_eq!(match_name("ShipZipCode").unwrap().concept.name, "postcode");
        assert_eq!(
            match_name("OrderPONumber").unwrap().concept.name,
            "reference"
        );
        assert_eq!(
            match_name("CustomerVATNumber").unwrap().concept.name,
            "tax id",
            "two words joined name a concept before either alone"
        );
    }

    #[test]
    fn a_near_spelling_of_a_long_word_matches_and_says_so() {
        let found = match_name("OrderRefrence").unwrap();
        assert_eq!(found.concept.name, "reference");
        assert!(found.fuzzy);
        assert_eq!(
            found.reason(),
            "name is close to 'reference' ('refrence'), a word for 'reference'"
        );
    }

    #[test]
    fn kentico_noise_words_name_nothing() {
        assert_eq!(match_name("OrderCustomField"), None);
        assert_eq!(match_name("Flavour"), None);
    }
}
