-- A finer sample of the contacts' search text: the planner's estimate of how many contacts
-- a substring matches ('%son%') decides between reading the trigram index's whole bitmap
-- and a scan that stops at the capped count. With the default sample the estimate of one
-- search swung between a third and all of the true count from one ANALYZE to the next
-- (the slow plan one time in six); with ten times the sample it stays within a few percent.
ALTER TABLE contacts ALTER COLUMN search_text SET STATISTICS 1000;
ANALYZE contacts;
