//! A WebSub topic: one channel in one format, named by the channel's plain URL under
//! `server.public_url` (`{base}/topics/{id}.atom`): each format is a topic of its own.

use crate::config::Settings;
use crate::domain::{ChannelId, SourceId, TopicId};
use crate::render::Format;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Topic {
    pub channel: ChannelId,
    pub format: Format,
}

impl Topic {
    /// The topic a URL names, when it is a configured channel's plain URL under `base` (no
    /// query, no fragment: `?since=` pages are not topics).
    pub fn from_url(settings: &Settings, base: &str, raw: &str) -> Option<Self> {
        let path = raw.strip_prefix(base)?;
        Self::from_path(settings, path)
    }

    /// `/feeds/all.atom`, `/topics/{id}.rss`, `/sources/{id}.json`, `/…/{id}.ninjs`.
    pub fn from_path(settings: &Settings, path: &str) -> Option<Self> {
        let (kind, file) = path.strip_prefix('/')?.split_once('/')?;
        let (name, ext) = file.rsplit_once('.')?;
        let format = Format::from_extension(ext)?;
        let channel = match kind {
            "feeds" => (name == "all").then_some(ChannelId::All)?,
            "topics" => ChannelId::Topic(TopicId::parse(name).ok().filter(|t| settings.topic(t).is_some())?),
            "sources" => ChannelId::Source(SourceId::parse(name).ok().filter(|s| settings.source(s).is_some())?),
            _ => return None,
        };
        Some(Self { channel, format })
    }

    /// The path under the public URL, as stored in a subscription.
    pub fn path(&self) -> String {
        format!("{}.{}", crate::http::channel_path(&self.channel), self.format.extension())
    }

    pub fn url(&self, base: &str) -> String {
        format!("{base}{}", self.path())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> Settings {
        let text = "[[source]]\nid = \"wire\"\nurl = \"https://wire.example/rss\"\n\
                    [[topic]]\nid = \"health\"\ntitle = \"Health\"\nany = [\"vaccine\"]\n";
        Settings::from_toml_checked(text, std::path::Path::new("/srv/nr/newsriver.toml")).expect("valid")
    }

    #[test]
    fn only_configured_channels_plain_urls_are_topics() {
        let s = settings();
        let base = "https://news.example";
        let t = |raw: &str| Topic::from_url(&s, base, raw);
        assert_eq!(
            t("https://news.example/feeds/all.atom"),
            Some(Topic { channel: ChannelId::All, format: Format::Atom })
        );
        let health = t("https://news.example/topics/health.json").expect("topic");
        assert_eq!(health.url(base), "https://news.example/topics/health.json");
        assert_eq!(t("https://news.example/sources/wire.ninjs").map(|t| t.format), Some(Format::Ninjs));
        for refused in [
            "https://news.example/feeds/other.atom",
            "https://news.example/topics/sport.atom",
            "https://news.example/sources/wire.xml",
            "https://news.example/feeds/all.atom?since=0",
            "https://news.example/feeds/all.atom#x",
            "https://elsewhere.example/feeds/all.atom",
            "https://news.example/api/sources",
            "https://news.example",
        ] {
            assert_eq!(t(refused), None, "{refused}");
        }
    }
}
