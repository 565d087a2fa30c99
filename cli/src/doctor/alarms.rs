//! Whether the deployment's alarms reach a person: every alarm named `<prefix>…` notifies an
//! SNS topic, and each such topic has a confirmed subscriber (an e-mail still waiting for its
//! confirmation link receives nothing).

use std::collections::BTreeMap;

use aws_sdk_cloudwatch::error::DisplayErrorContext;

/// The alarm name prefix of a stack whose state table is `paybridge-<stage>-state`.
pub fn prefix_of_table(table: &str) -> Option<String> {
    table
        .strip_suffix("state")
        .filter(|prefix| prefix.ends_with('-'))
        .map(str::to_string)
}

/// `Ok(summary)` when every alarm notifies a topic with a confirmed subscriber; else what is
/// missing and how to fix it.
pub async fn check(sdk: &aws_config::SdkConfig, prefix: &str) -> Result<String, String> {
    let cloudwatch = aws_sdk_cloudwatch::Client::new(sdk);
    let mut alarms = Vec::new();
    let mut pages = cloudwatch
        .describe_alarms()
        .alarm_name_prefix(prefix)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page =
            page.map_err(|e| format!("CloudWatch DescribeAlarms: {}", DisplayErrorContext(e)))?;
        alarms.extend(page.metric_alarms.unwrap_or_default());
    }
    if alarms.is_empty() {
        return Err(format!(
            "no alarm is named {prefix}…: deploy template.yaml (or pass --alarm-prefix)"
        ));
    }
    let mut silent = Vec::new();
    let mut topics: BTreeMap<String, usize> = BTreeMap::new();
    for alarm in &alarms {
        let name = alarm.alarm_name().unwrap_or("?");
        let notified: Vec<&String> = (alarm.alarm_actions())
            .iter()
            .filter(|action| action.starts_with("arn:") && action.contains(":sns:"))
            .collect();
        if notified.is_empty() || !alarm.actions_enabled().unwrap_or(true) {
            silent.push(name.to_string());
        }
        for topic in notified {
            *topics.entry(topic.clone()).or_default() += 1;
        }
    }
    let sns = aws_sdk_sns::Client::new(sdk);
    let mut problems = Vec::new();
    let mut fine = Vec::new();
    for (topic, count) in &topics {
        let (confirmed, pending) = subscribers(&sns, topic).await?;
        if confirmed == 0 {
            problems.push(format!(
                "{count} alarm(s) notify {topic}, which has no confirmed subscriber{}: confirm \
                 the e-mail (parameter AlarmEmail) or `aws sns subscribe --topic-arn {topic} \
                 --protocol email --notification-endpoint you@example.com`",
                match pending {
                    0 => String::new(),
                    n => format!(" ({n} waiting for the confirmation link)"),
                }
            ));
        } else {
            fine.push(format!(
                "{count} alarm(s) notify {topic} ({confirmed} confirmed subscriber(s))"
            ));
        }
    }
    if !silent.is_empty() {
        problems.push(format!(
            "{} alarm(s) notify nobody: {}",
            silent.len(),
            silent.join(", ")
        ));
    }
    if problems.is_empty() {
        Ok(fine.join("; "))
    } else {
        Err(problems.join("; "))
    }
}

/// (confirmed, pending confirmation) subscriptions of `topic`.
async fn subscribers(sns: &aws_sdk_sns::Client, topic: &str) -> Result<(usize, usize), String> {
    let (mut confirmed, mut pending) = (0, 0);
    let mut pages = sns
        .list_subscriptions_by_topic()
        .topic_arn(topic)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| {
            format!(
                "SNS ListSubscriptionsByTopic {topic}: {}",
                aws_sdk_sns::error::DisplayErrorContext(e)
            )
        })?;
        for subscription in page.subscriptions() {
            match subscription.subscription_arn() {
                Some("PendingConfirmation") => pending += 1,
                Some(arn) if arn.starts_with("arn:") => confirmed += 1,
                _ => {}
            }
        }
    }
    Ok((confirmed, pending))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prefix_comes_from_the_stacks_table_name() {
        assert_eq!(
            prefix_of_table("paybridge-prod-state").as_deref(),
            Some("paybridge-prod-")
        );
        assert_eq!(prefix_of_table("my-table"), None);
        assert_eq!(prefix_of_table("state"), None);
    }
}
