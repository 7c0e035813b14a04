DROP TABLE border_assessments;
DROP TABLE border_savings;
DROP TABLE border_consignments;
