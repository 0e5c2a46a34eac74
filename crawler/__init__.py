"""The Scrapy project: spiders that follow agencies' 年报 columns and fetch every report."""
