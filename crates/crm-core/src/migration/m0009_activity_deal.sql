-- An activity may be about one of its contact's deals: the deal's timeline shows it.
ALTER TABLE activities ADD COLUMN deal_id {uuid} REFERENCES deals (id) ON DELETE SET NULL;
CREATE INDEX activities_deal_idx ON activities (deal_id, created_at);
