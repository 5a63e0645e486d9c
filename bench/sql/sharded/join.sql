SELECT bench.must(api.issue_token((SELECT key FROM bench.users WHERE n = (SELECT nextval('bench.next_join'))), :concert),
                  201, 'issue_token');
